package rocketpy.interop;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.impl.factory.MQClientInstance;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.admin.ConsumeStats;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.body.BrokerStatsData;
import org.apache.rocketmq.common.protocol.body.Connection;
import org.apache.rocketmq.common.protocol.body.ConsumeMessageDirectlyResult;
import org.apache.rocketmq.common.protocol.body.ConsumeStatsList;
import org.apache.rocketmq.common.protocol.body.ConsumerRunningInfo;
import org.apache.rocketmq.common.protocol.body.QueueTimeSpan;
import org.apache.rocketmq.common.protocol.heartbeat.SubscriptionData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExtImpl;

/**
 * The admin codes behind mqadmin's consumer and store commands (issue 9): brokerConsumeStats, consumerStatus,
 * consumerProgress -s, resetOffsetByTime with a running consumer (re-delivery observed), skipAccumulatedMessage,
 * queryCq, statsAll, cleanExpiredCQ, deleteExpiredCommitLog, cleanUnusedTopic, getBrokerConfig; and the
 * admin API calls consumer running info, consumeMessageDirectly, queryConsumeTimeSpan, queryCorrectionOffset,
 * fetchConsumeStatsInBroker, cloneGroupOffset, getConsumeStatus, viewBrokerStatsData.
 */
final class AdminCodes {
    static final String TOPIC = "InteropAdminCodes";
    static final String GROUP = "interop_codes_consumer";
    static final String STATS_TOPIC = "InteropStatsTopic";
    static final String STATS_GROUP = "interop_stats_consumer";
    private final String namesrv;
    private final String broker;
    private final int timeoutMs;

    AdminCodes(Args args) {
        this.namesrv = args.get("namesrv");
        this.broker = args.get("broker", "");
        this.timeoutMs = args.getInt("timeout-ms", 60000);
    }

    private Map<String, Object> mq(String... argv) throws Exception {
        return Mqadmin.run(Arrays.asList(argv));
    }

    /** A call's result, or its error described: one refused call does not end the scenario. */
    private static Object attempt(Callable<Object> call) {
        try {
            return call.call();
        } catch (Exception e) {
            return Errors.describe(e);
        }
    }

    Map<String, Object> run() throws Exception {
        // The client re-balances every second instead of 20 s, so a reset queue is taken up again quickly.
        System.setProperty("rocketmq.client.rebalance.waitInterval", "1000");
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_codes_producer", "codes-producer");
        DefaultMQPushConsumer consumer = null;
        try {
            out.put("updateTopic", mq("updateTopic", "-n", namesrv, "-c", "DefaultCluster", "-t", TOPIC, "-r", "2",
                "-w", "2"));
            AdminSteps.waitForRoute(admin, TOPIC, timeoutMs);
            long statsQuietSince = statsLoad(admin, producer, out);
            List<String> ids = new ArrayList<String>();
            Map<String, Integer> statuses = new TreeMap<String, Integer>();
            for (int i = 0; i < 6; i++) {
                Message msg = new Message(TOPIC, "TagA", "ckey-" + i, ("codes-" + i).getBytes(StandardCharsets.UTF_8));
                SendResult r = producer.send(msg, (mqs, m, arg) -> mqs.get((Integer) arg % mqs.size()), i);
                Clients.increment(statuses, r.getSendStatus().name());
                ids.add(r.getOffsetMsgId());
            }
            out.put("sends", statuses);
            final Map<String, Integer> got = new ConcurrentHashMap<String, Integer>();
            consumer = Clients.pushConsumer(namesrv, GROUP, "codes-consumer");
            consumer.setPersistConsumerOffsetInterval(500);
            consumer.subscribe(TOPIC, "*");
            consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    Clients.increment(got, Clients.body(m));
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            consumer.start();
            out.put("consumed", Clients.waitUntil(() -> got.size() >= 6, timeoutMs));
            out.put("consumeStats", LitePull.waitForConsumeStats(admin, GROUP, 6));
            // A stats item's minute window holds what its 10 s samples saw: statsAll runs once the sample after the
            // stats load is taken, and well within the minute after it.
            Thread.sleep(Math.max(0, statsQuietSince + 11000 - System.currentTimeMillis()));
            out.put("statsAll", mq("statsAll", "-n", namesrv, "-t", STATS_TOPIC));
            out.put("statsTopicPut", attempt(() -> statsData(admin, "TOPIC_PUT_NUMS", STATS_TOPIC)));
            out.put("statsTopicPutSize", attempt(() -> statsData(admin, "TOPIC_PUT_SIZE", STATS_TOPIC).keySet()));
            String groupKey = STATS_TOPIC + "@" + STATS_GROUP;
            out.put("statsGroupGet", attempt(() -> statsData(admin, "GROUP_GET_NUMS", groupKey)));
            out.put("statsUnknown", attempt(() -> statsData(admin, "SNDBCK_PUT_NUMS", STATS_TOPIC + "@nobody")));
            List<String> clients = new ArrayList<String>();
            for (Connection c : admin.examineConsumerConnectionInfo(GROUP).getConnectionSet()) {
                clients.add(c.getClientId());
            }
            final String clientId = clients.get(0);
            out.put("runningInfo", attempt(() -> runningInfo(admin.getConsumerRunningInfo(GROUP, clientId, false))));
            out.put("runningInfoUnknownClient", attempt(() -> runningInfo(admin.getConsumerRunningInfo(GROUP,
                "10.9.9.9@nobody", false))));
            out.put("consumeDirectly", attempt(() -> direct(admin.consumeMessageDirectly(GROUP, clientId,
                ids.get(1)))));
            out.put("timeSpan", attempt(() -> timeSpans(admin.queryConsumeTimeSpan(TOPIC, GROUP))));
            out.put("timeSpanUnknownTopic", attempt(() -> timeSpans(admin.queryConsumeTimeSpan("NoSuchTopicX", GROUP))));
            out.put("correctionOffset", attempt(() -> new TreeMap<Integer, Long>(clientInstance(admin)
                .getMQClientAPIImpl().queryCorrectionOffset(broker, TOPIC, GROUP, null, 5000))));
            out.put("brokerConsumeStatsApi", attempt(() -> brokerConsumeStats(admin.fetchConsumeStatsInBroker(broker,
                false, 5000))));
            out.put("cloneGroupOffset", attempt(() -> {
                admin.cloneGroupOffset(GROUP, "interop_codes_clone", TOPIC, true);
                return LitePull.consumeStats(admin.examineConsumeStats("interop_codes_clone"));
            }));
            out.put("brokerConsumeStats", mq("brokerConsumeStats", "-n", namesrv, "-b", broker));
            out.put("consumerStatus", mq("consumerStatus", "-n", namesrv, "-g", GROUP));
            out.put("consumerProgress", mq("consumerProgress", "-n", namesrv, "-g", GROUP, "-s", "true"));
            out.put("getConsumeStatus", attempt(() -> consumeStatus(admin.getConsumeStatus(TOPIC, GROUP, ""))));
            out.put("queryCq", mq("queryCq", "-n", namesrv, "-t", TOPIC, "-q", "0", "-i", "1", "-c", "5"));
            out.put("queryCqGroup", mq("queryCq", "-n", namesrv, "-t", TOPIC, "-q", "1", "-i", "0", "-c", "2", "-g",
                GROUP));
            out.put("queryCqMissing", mq("queryCq", "-n", namesrv, "-t", TOPIC, "-q", "7", "-i", "0"));
            out.put("bitMapLength", brokerConfigLine(mq("getBrokerConfig", "-n", namesrv, "-b", broker),
                "bitMapLengthConsumeQueueExt"));
            out.put("countsBeforeReset", new TreeMap<String, Integer>(got));
            out.put("resetOffsetByTime", mq("resetOffsetByTime", "-n", namesrv, "-g", GROUP, "-t", TOPIC, "-s", "0"));
            out.put("redelivered", Clients.waitUntil(() -> {
                for (int i = 0; i < 6; i++) {
                    if (got.getOrDefault("codes-" + i, 0) < (i == 1 ? 3 : 2)) {
                        return false;
                    }
                }
                return true;
            }, timeoutMs));
            out.put("countsAfterReset", new TreeMap<String, Integer>(got));
            out.put("consumeStatsAfterReset", LitePull.waitForConsumeStats(admin, GROUP, 6));
            for (int i = 6; i < 8; i++) {
                producer.send(new Message(TOPIC, "TagB", ("late-" + i).getBytes(StandardCharsets.UTF_8)),
                    (mqs, m, arg) -> mqs.get((Integer) arg % mqs.size()), i);
            }
            Clients.waitUntil(() -> got.size() >= 8, timeoutMs);
            out.put("skipAccumulated", mq("skipAccumulatedMessage", "-n", namesrv, "-g", GROUP, "-t", TOPIC));
            consumer.shutdown();
            consumer = null;
            out.put("resetOffline", mq("resetOffsetByTime", "-n", namesrv, "-g", GROUP, "-t", TOPIC, "-s", "now"));
            out.put("cleanExpiredCQ", mq("cleanExpiredCQ", "-n", namesrv, "-b", broker));
            out.put("deleteExpiredCommitLog", mq("deleteExpiredCommitLog", "-n", namesrv, "-b", broker));
            out.put("cleanUnusedTopic", mq("cleanUnusedTopic", "-n", namesrv, "-b", broker));
            out.put("topicStatsAfterCleanups", BrokerAdmin.topicStats(admin.examineTopicStats(TOPIC)));
        } finally {
            if (consumer != null) {
                consumer.shutdown();
            }
            producer.shutdown();
            admin.shutdown();
        }
        return out;
    }

    /** Four messages to a one-queue topic, consumed by a group of their own; returns when the load ended. */
    private long statsLoad(DefaultMQAdminExt admin, DefaultMQProducer producer, Map<String, Object> out)
        throws Exception {
        Clients.createTopic(admin, "DefaultCluster", STATS_TOPIC, 1);
        for (int i = 0; i < 4; i++) {
            producer.send(new Message(STATS_TOPIC, "TagS", ("stats-" + i).getBytes(StandardCharsets.UTF_8)));
        }
        final Map<String, Integer> got = new ConcurrentHashMap<String, Integer>();
        DefaultMQPushConsumer consumer = Clients.pushConsumer(namesrv, STATS_GROUP, "stats-consumer");
        consumer.setPersistConsumerOffsetInterval(500);
        consumer.subscribe(STATS_TOPIC, "*");
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                Clients.increment(got, Clients.body(m));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        out.put("statsConsumed", Clients.waitUntil(() -> got.size() >= 4, timeoutMs));
        // the listener returning is not the offset committed: wait for the broker to hold all four
        out.put("statsConsumeStats", LitePull.waitForConsumeStats(admin, STATS_GROUP, 4));
        consumer.shutdown();
        return System.currentTimeMillis();
    }

    private Map<String, Object> statsData(DefaultMQAdminExt admin, String name, String key) throws Exception {
        BrokerStatsData data = admin.viewBrokerStatsData(broker, name, key);
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("minuteSum", data.getStatsMinute().getSum());
        out.put("minuteAvgpt", data.getStatsMinute().getAvgpt());
        out.put("minuteTpsPositive", data.getStatsMinute().getTps() > 0);
        out.put("hourSum", data.getStatsHour().getSum());
        out.put("daySum", data.getStatsDay().getSum());
        return out;
    }

    private static Map<String, Object> consumeStatus(Map<String, Map<MessageQueue, Long>> table) {
        Map<String, Object> out = new TreeMap<String, Object>();
        for (Map.Entry<String, Map<MessageQueue, Long>> e : table.entrySet()) {
            Map<String, Long> queues = new TreeMap<String, Long>();
            for (Map.Entry<MessageQueue, Long> q : e.getValue().entrySet()) {
                queues.put(q.getKey().getTopic() + "/" + q.getKey().getQueueId(), q.getValue());
            }
            out.put(e.getKey(), queues);
        }
        return out;
    }

    private static MQClientInstance clientInstance(DefaultMQAdminExt admin) throws Exception {
        Field impl = DefaultMQAdminExt.class.getDeclaredField("defaultMQAdminExtImpl");
        impl.setAccessible(true);
        Field instance = DefaultMQAdminExtImpl.class.getDeclaredField("mqClientInstance");
        instance.setAccessible(true);
        return (MQClientInstance) instance.get(impl.get(admin));
    }

    private static Map<String, Object> runningInfo(ConsumerRunningInfo info) {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("consumeType", info.getProperties().getProperty("PROP_CONSUME_TYPE"));
        out.put("orderly", info.getProperties().getProperty("PROP_CONSUMEORDERLY"));
        out.put("clientVersion", info.getProperties().getProperty("PROP_CLIENT_VERSION"));
        TreeSet<String> subs = new TreeSet<String>();
        for (SubscriptionData s : info.getSubscriptionSet()) {
            subs.add(s.getTopic() + ":" + s.getSubString());
        }
        out.put("subscriptions", new ArrayList<String>(subs));
        List<String> queues = new ArrayList<String>();
        for (MessageQueue mq : info.getMqTable().keySet()) {
            if (!mq.getTopic().startsWith("%RETRY%")) {
                queues.add(mq.getTopic() + "/" + mq.getBrokerName() + "/" + mq.getQueueId());
            }
        }
        out.put("queues", Clients.sortedList(queues));
        return out;
    }

    private static Map<String, Object> direct(ConsumeMessageDirectlyResult r) {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("order", r.isOrder());
        out.put("autoCommit", r.isAutoCommit());
        out.put("consumeResult", String.valueOf(r.getConsumeResult()));
        out.put("remark", r.getRemark());
        return out;
    }

    private static Map<String, Object> timeSpans(List<QueueTimeSpan> spans) {
        Map<String, Object> out = new TreeMap<String, Object>();
        for (QueueTimeSpan s : spans) {
            Map<String, Object> one = new LinkedHashMap<String, Object>();
            one.put("minSet", s.getMinTimeStamp() > 0);
            one.put("maxSet", s.getMaxTimeStamp() > 0);
            one.put("consumeIsMax", s.getConsumeTimeStamp() == s.getMaxTimeStamp());
            one.put("delayTime", s.getDelayTime());
            out.put(s.getMessageQueue().getTopic() + "/" + s.getMessageQueue().getQueueId(), one);
        }
        return out;
    }

    private static Map<String, Object> brokerConsumeStats(ConsumeStatsList list) {
        Map<String, Object> out = new TreeMap<String, Object>();
        for (Map<String, List<ConsumeStats>> group : list.getConsumeStatsList()) {
            for (Map.Entry<String, List<ConsumeStats>> e : group.entrySet()) {
                if (!e.getKey().startsWith("interop_codes")) {
                    continue;
                }
                List<Object> stats = new ArrayList<Object>();
                for (ConsumeStats s : e.getValue()) {
                    Map<String, Object> one = LitePull.consumeStats(s);
                    if (!one.isEmpty()) { // the retry topic's, which has an offset once time says so
                        stats.add(one);
                    }
                }
                out.put(e.getKey(), stats);
            }
        }
        out.put("totalDiff", list.getTotalDiff());
        return out;
    }

    private static Object brokerConfigLine(Map<String, Object> result, String key) {
        for (String line : String.valueOf(result.get("stdout")).split("\n")) {
            if (line.trim().startsWith(key)) {
                return line.trim().replaceAll("\\s+", " ");
            }
        }
        return result.get("errors");
    }
}
