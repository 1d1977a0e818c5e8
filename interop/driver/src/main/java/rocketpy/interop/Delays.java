package rocketpy.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.admin.TopicOffset;
import org.apache.rocketmq.common.admin.TopicStatsTable;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.RequestCode;
import org.apache.rocketmq.remoting.netty.NettyClientConfig;
import org.apache.rocketmq.remoting.netty.NettyRemotingClient;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Delayed delivery, retries and dead letters (issue 7), as 4.9.8 clients observe them. Times are measured and
 * reported as numbers ("...Ms" keys) for the harness to bound; everything else is compared across targets.
 *
 * <ul>
 * <li>"delay-levels": messages with DELAY 1..4 and one above the maximum, received by a push consumer; per message
 * the broker's delay (storeTimestamp of the delivered copy minus bornTimestamp), the arrival time, what the consumer
 * sees; then GET_ALL_DELAY_OFFSET (45) raw.</li>
 * <li>"delay-send" --topic T --body B --level N: one delayed message, the harness then stops the broker.</li>
 * <li>"delay-receive" --topic T --group G --expect B1,B2: a push consumer until every body came, then 3 s more.</li>
 * <li>"retry": a concurrent consumer returning RECONSUME_LATER 3 times (intervals, reconsumeTimes, ids); one with
 * maxReconsumeTimes=2 that always fails, its message then read from %DLQ% with the admin API; an orderly consumer
 * returning SUSPEND_CURRENT_QUEUE_A_MOMENT (local retries, then the dead-letter queue).</li>
 * <li>"retry-pending" --group G --topic T --level N: one message, failed once with delay level N, the consumer
 * shut down while the retry is pending (for the store-compatibility run).</li>
 * </ul>
 */
final class Delays {
    static final String[] VOLATILE = {MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX,
        MessageConst.PROPERTY_MIN_OFFSET, MessageConst.PROPERTY_MAX_OFFSET, MessageConst.PROPERTY_CONSUME_START_TIMESTAMP,
        MessageConst.PROPERTY_ORIGIN_MESSAGE_ID};
    private final Args args;
    private final String namesrv;
    private final int timeoutMs;

    Delays(Args args) {
        this.args = args;
        this.namesrv = args.get("namesrv");
        this.timeoutMs = args.getInt("timeout-ms", 60000);
    }

    static Map<String, String> properties(MessageExt m) {
        Map<String, String> props = new TreeMap<String, String>(m.getProperties());
        for (String key : VOLATILE) {
            if (props.containsKey(key)) {
                props.put(key, "<volatile>");
            }
        }
        return props;
    }

    static Map<String, Object> describe(MessageExt m) {
        Map<String, Object> one = new LinkedHashMap<String, Object>();
        one.put("topic", m.getTopic());
        one.put("queueId", m.getQueueId());
        one.put("body", Clients.body(m));
        one.put("tags", m.getTags());
        one.put("reconsumeTimes", m.getReconsumeTimes());
        one.put("sysFlag", m.getSysFlag());
        one.put("properties", properties(m));
        return one;
    }

    static String brokerAddr(DefaultMQAdminExt admin) throws Exception {
        return admin.examineBrokerClusterInfo().getBrokerAddrTable().get("broker-a").getBrokerAddrs()
            .get(MixAll.MASTER_ID);
    }

    /** GET_ALL_DELAY_OFFSET as a slave's BrokerOuterAPI sends it: code, remark, body text. */
    static Map<String, Object> allDelayOffset(String addr) throws Exception {
        NettyRemotingClient client = new NettyRemotingClient(new NettyClientConfig());
        client.start();
        try {
            RemotingCommand reply = client.invokeSync(addr,
                RemotingCommand.createRequestCommand(RequestCode.GET_ALL_DELAY_OFFSET, null), 10000);
            Map<String, Object> out = new LinkedHashMap<String, Object>();
            out.put("code", reply.getCode());
            out.put("remark", reply.getRemark());
            out.put("body", reply.getBody() == null ? null : new String(reply.getBody(), StandardCharsets.UTF_8));
            return out;
        } finally {
            client.shutdown();
        }
    }

    static Message message(String topic, String body, int level) {
        Message msg = new Message(topic, "TagD", "key-" + body, body.getBytes(StandardCharsets.UTF_8));
        if (level > 0) {
            msg.setDelayTimeLevel(level);
        }
        return msg;
    }

    Map<String, Object> levels() throws Exception {
        String topic = "InteropDelayTopic";
        int[] levels = {1, 2, 3, 4, 9};
        final Map<String, Long> arrived = new ConcurrentHashMap<String, Long>();
        final Map<String, MessageExt> got = new ConcurrentHashMap<String, MessageExt>();
        final Map<String, Integer> counts = new ConcurrentHashMap<String, Integer>();
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_delay_producer", "delay-producer");
        DefaultMQPushConsumer consumer = Clients.pushConsumer(namesrv, "interop_delay_consumer", "delay-consumer");
        try {
            Clients.createTopic(admin, "DefaultCluster", topic, 4);
            String addr = brokerAddr(admin);
            out.put("delayOffsetBefore", allDelayOffset(addr));
            consumer.subscribe(topic, "*");
            consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                long now = System.currentTimeMillis();
                for (MessageExt m : msgs) {
                    String body = Clients.body(m);
                    arrived.putIfAbsent(body, now);
                    got.putIfAbsent(body, m);
                    Clients.increment(counts, body);
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            consumer.start();
            Clients.waitForAllocation(Collections.singletonMap("delay-consumer", consumer), topic, 4, timeoutMs);
            Map<String, Long> sentAt = new TreeMap<String, Long>();
            Map<String, Object> sends = new TreeMap<String, Object>();
            for (int i = 0; i < levels.length; i++) {
                String body = "level-" + levels[i];
                sentAt.put(body, System.currentTimeMillis());
                SendResult r = producer.send(message(topic, body, levels[i]),
                    (mqs, m, arg) -> mqs.get((Integer) arg % mqs.size()), i);
                Map<String, Object> s = new LinkedHashMap<String, Object>();
                s.put("status", r.getSendStatus().name());
                s.put("queueId", r.getMessageQueue().getQueueId());
                sends.put(body, s);
            }
            out.put("sends", sends);
            boolean all = Clients.waitUntil(() -> got.size() >= levels.length, timeoutMs);
            Thread.sleep(1500);
            out.put("complete", all);
            Map<String, Object> received = new TreeMap<String, Object>();
            for (Map.Entry<String, MessageExt> e : got.entrySet()) {
                MessageExt m = e.getValue();
                Map<String, Object> one = describe(m);
                one.put("count", counts.get(e.getKey()));
                one.put("brokerDelayMs", m.getStoreTimestamp() - m.getBornTimestamp());
                one.put("arrivalMs", arrived.get(e.getKey()) - sentAt.get(e.getKey()));
                received.put(e.getKey(), one);
            }
            out.put("received", received);
            out.put("delayOffsetAfter", allDelayOffset(addr));
            Map<String, String> scheduleStats = new TreeMap<String, String>();
            for (Map.Entry<String, String> e : admin.fetchBrokerRuntimeStats(addr).getTable().entrySet()) {
                if (e.getKey().startsWith("scheduleMessageOffset")) {
                    scheduleStats.put(e.getKey(), e.getValue());
                }
            }
            out.put("runtimeScheduleStats", scheduleStats);
        } finally {
            consumer.shutdown();
            producer.shutdown();
            admin.shutdown();
        }
        return out;
    }

    Map<String, Object> send() throws Exception {
        String topic = args.get("topic");
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_delay_producer", "delay-producer");
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        try {
            if (args.get("create", "false").equals("true")) {
                Clients.createTopic(admin, "DefaultCluster", topic, 1);
            }
            SendResult r = producer.send(message(topic, args.get("body"), args.getInt("level", 1)));
            out.put("status", r.getSendStatus().name());
        } finally {
            producer.shutdown();
            admin.shutdown();
        }
        return out;
    }

    Map<String, Object> receive() throws Exception {
        String topic = args.get("topic");
        final List<String> expect = java.util.Arrays.asList(args.get("expect").split(","));
        final Map<String, Integer> counts = new ConcurrentHashMap<String, Integer>();
        final Map<String, Object> seen = new ConcurrentHashMap<String, Object>();
        DefaultMQPushConsumer consumer = Clients.pushConsumer(namesrv, args.get("group"), "delay-receiver");
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        try {
            consumer.subscribe(topic, "*");
            consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    Clients.increment(counts, Clients.body(m));
                    seen.putIfAbsent(Clients.body(m), describe(m));
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            consumer.start();
            boolean all = Clients.waitUntil(() -> counts.keySet().containsAll(expect), timeoutMs);
            Thread.sleep(3000);
            out.put("complete", all);
            out.put("counts", new TreeMap<String, Integer>(counts));
            out.put("messages", new TreeMap<String, Object>(seen));
        } finally {
            consumer.shutdown();
        }
        return out;
    }

    /** One delivery as a failing listener saw it; the interval to the previous delivery is a number. */
    static Map<String, Object> delivery(MessageExt m, String sentMsgId, String sentOffsetId, long previous) {
        Map<String, Object> one = describe(m);
        one.put("msgIdKept", m.getMsgId().equals(sentMsgId));
        String origin = m.getProperty(MessageConst.PROPERTY_ORIGIN_MESSAGE_ID);
        one.put("originIsFirstOffsetMsgId", origin == null ? null : origin.equals(sentOffsetId));
        one.put("intervalMs", previous == 0 ? 0 : System.currentTimeMillis() - previous);
        return one;
    }

    Map<String, Object> retry() throws Exception {
        final String retryTopic = "InteropRetryTopic";
        final String dlqTopic = "InteropDlqTopic";
        final String orderlyTopic = "InteropOrderlyRetryTopic";
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_retry_producer", "retry-producer");
        final List<Map<String, Object>> retried = Collections.synchronizedList(new ArrayList<Map<String, Object>>());
        final List<Map<String, Object>> dead = Collections.synchronizedList(new ArrayList<Map<String, Object>>());
        final List<Map<String, Object>> orderly = Collections.synchronizedList(new ArrayList<Map<String, Object>>());
        final String[] ids = new String[6];
        final long[] last = new long[3];
        DefaultMQPushConsumer retryConsumer = Clients.pushConsumer(namesrv, "interop_retry_consumer", "retry-c1");
        DefaultMQPushConsumer dlqConsumer = Clients.pushConsumer(namesrv, "interop_dlq_consumer", "retry-c2");
        DefaultMQPushConsumer orderlyConsumer = Clients.pushConsumer(namesrv, "interop_orderly_consumer", "retry-c3");
        try {
            Clients.createTopic(admin, "DefaultCluster", retryTopic, 1);
            Clients.createTopic(admin, "DefaultCluster", dlqTopic, 1);
            Clients.createTopic(admin, "DefaultCluster", orderlyTopic, 1);
            // the retry topics exist before the consumers start, so that their first rebalance takes them
            Clients.createTopic(admin, "DefaultCluster", MixAll.getRetryTopic("interop_retry_consumer"), 1);
            Clients.createTopic(admin, "DefaultCluster", MixAll.getRetryTopic("interop_dlq_consumer"), 1);
            retryConsumer.subscribe(retryTopic, "*");
            retryConsumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                synchronized (retried) {
                    for (MessageExt m : msgs) {
                        retried.add(delivery(m, ids[0], ids[1], last[0]));
                        last[0] = System.currentTimeMillis();
                    }
                    return retried.size() <= 3 ? ConsumeConcurrentlyStatus.RECONSUME_LATER
                        : ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
                }
            });
            dlqConsumer.setMaxReconsumeTimes(2);
            dlqConsumer.subscribe(dlqTopic, "*");
            dlqConsumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                synchronized (dead) {
                    for (MessageExt m : msgs) {
                        dead.add(delivery(m, ids[2], ids[3], last[1]));
                        last[1] = System.currentTimeMillis();
                    }
                }
                return ConsumeConcurrentlyStatus.RECONSUME_LATER;
            });
            orderlyConsumer.setMaxReconsumeTimes(2);
            orderlyConsumer.setSuspendCurrentQueueTimeMillis(300);
            orderlyConsumer.subscribe(orderlyTopic, "*");
            orderlyConsumer.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
                synchronized (orderly) {
                    for (MessageExt m : msgs) {
                        orderly.add(delivery(m, ids[4], ids[5], 0));
                    }
                }
                return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
            });
            retryConsumer.start();
            dlqConsumer.start();
            orderlyConsumer.start();
            Clients.waitForAllocation(Collections.singletonMap("retry-c1", retryConsumer), retryTopic, 1, timeoutMs);
            Clients.waitForAllocation(Collections.singletonMap("retry-c2", dlqConsumer), dlqTopic, 1, timeoutMs);
            Clients.waitForAllocation(Collections.singletonMap("retry-c3", orderlyConsumer), orderlyTopic, 1,
                timeoutMs);
            Clients.waitForAllocation(Collections.singletonMap("retry-c1", retryConsumer),
                MixAll.getRetryTopic("interop_retry_consumer"), 1, timeoutMs);
            Clients.waitForAllocation(Collections.singletonMap("retry-c2", dlqConsumer),
                MixAll.getRetryTopic("interop_dlq_consumer"), 1, timeoutMs);
            String[] topics = {retryTopic, dlqTopic, orderlyTopic};
            for (int i = 0; i < 3; i++) {
                // The client id is set (as send would) and recorded before the send: a consumer may get the
                // message before send() returns, and must not compare its first delivery with an id not yet known.
                Message m = message(topics[i], "retry-" + i, 0);
                org.apache.rocketmq.common.message.MessageClientIDSetter.setUniqID(m);
                ids[2 * i] = org.apache.rocketmq.common.message.MessageClientIDSetter.getUniqID(m);
                SendResult r = producer.send(m);
                if (!ids[2 * i].equals(r.getMsgId())) {
                    throw new IllegalStateException("the producer replaced the preset UNIQ_KEY " + ids[2 * i]);
                }
                ids[2 * i + 1] = r.getOffsetMsgId();
            }
            String dlq = MixAll.getDLQTopic("interop_dlq_consumer");
            String orderlyDlq = MixAll.getDLQTopic("interop_orderly_consumer");
            boolean done = Clients.waitUntil(() -> retried.size() >= 4 && dead.size() >= 3 && orderly.size() >= 3,
                timeoutMs);
            boolean inDlq = Clients.waitUntil(() -> maxOffset(admin, dlq) >= 1 && maxOffset(admin, orderlyDlq) >= 1,
                timeoutMs);
            Thread.sleep(1000);
            out.put("complete", done);
            out.put("reachedDlq", inDlq);
            out.put("retried", new ArrayList<Object>(retried));
            out.put("dead", new ArrayList<Object>(dead));
            out.put("orderly", new ArrayList<Object>(orderly));
            String addr = brokerAddr(admin);
            out.put("dlq", dlqView(admin, addr, dlq, "key-retry-1", ids[2], ids[3]));
            out.put("orderlyDlq", dlqView(admin, addr, orderlyDlq, "key-retry-2", ids[4], ids[5]));
        } finally {
            retryConsumer.shutdown();
            dlqConsumer.shutdown();
            orderlyConsumer.shutdown();
            producer.shutdown();
            admin.shutdown();
        }
        return out;
    }

    static long maxOffset(DefaultMQAdminExt admin, String topic) {
        try {
            long max = 0;
            for (TopicOffset o : admin.examineTopicStats(topic).getOffsetTable().values()) {
                max += o.getMaxOffset();
            }
            return max;
        } catch (Exception e) {
            return -1;
        }
    }

    /** The dead-letter topic through the admin API: config, stats, and its message found by key. */
    static Map<String, Object> dlqView(DefaultMQAdminExt admin, String addr, String dlq, String key,
        String msgId, String offsetId) throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        TopicConfig config = admin.examineTopicConfig(addr, dlq);
        out.put("config", config == null ? null : config.toString());
        TopicStatsTable stats = admin.examineTopicStats(dlq);
        Map<String, Object> offsets = new TreeMap<String, Object>();
        for (Map.Entry<MessageQueue, TopicOffset> e : stats.getOffsetTable().entrySet()) {
            offsets.put(e.getKey().getBrokerName() + "/" + e.getKey().getQueueId(),
                e.getValue().getMinOffset() + ".." + e.getValue().getMaxOffset());
        }
        out.put("offsets", offsets);
        out.put("routePerms", admin.examineTopicRouteInfo(dlq).getQueueDatas().get(0).getPerm());
        QueryResult found = admin.queryMessage(dlq, key, 32, 0, Long.MAX_VALUE);
        List<Object> messages = new ArrayList<Object>();
        for (MessageExt m : found.getMessageList()) {
            Map<String, Object> one = describe(m);
            one.put("msgIdKept", m.getMsgId().equals(msgId));
            one.put("originIsFirstOffsetMsgId", offsetId.equals(m.getProperty(MessageConst.PROPERTY_ORIGIN_MESSAGE_ID)));
            messages.add(one);
        }
        out.put("byKey", messages);
        return out;
    }

    Map<String, Object> retryPending() throws Exception {
        final String topic = args.get("topic");
        final int level = args.getInt("level", 7);
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_delay_producer", "delay-producer");
        final Map<String, Integer> counts = new ConcurrentHashMap<String, Integer>();
        DefaultMQPushConsumer consumer = Clients.pushConsumer(namesrv, args.get("group"), "retry-pending");
        consumer.setPersistConsumerOffsetInterval(500);
        try {
            Clients.createTopic(admin, "DefaultCluster", topic, 1);
            consumer.subscribe(topic, "*");
            consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    Clients.increment(counts, Clients.body(m) + "@" + m.getReconsumeTimes());
                }
                ctx.setDelayLevelWhenNextConsume(level);
                return ConsumeConcurrentlyStatus.RECONSUME_LATER;
            });
            consumer.start();
            Clients.waitForAllocation(Collections.singletonMap("retry-pending", consumer), topic, 1, timeoutMs);
            out.put("status", producer.send(message(topic, args.get("body"), 0)).getSendStatus().name());
            out.put("failedOnce", Clients.waitUntil(() -> !counts.isEmpty(), timeoutMs));
            Thread.sleep(1000);  // the send-back is acknowledged, the offset committed
        } finally {
            consumer.shutdown();
            producer.shutdown();
            admin.shutdown();
        }
        out.put("counts", new TreeMap<String, Integer>(counts));
        return out;
    }
}
