package rocketpy.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.admin.TopicOffset;
import org.apache.rocketmq.common.admin.TopicStatsTable;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.body.Connection;
import org.apache.rocketmq.common.protocol.body.ConsumerConnection;
import org.apache.rocketmq.common.protocol.body.KVTable;
import org.apache.rocketmq.common.protocol.body.ProducerConnection;
import org.apache.rocketmq.common.protocol.heartbeat.SubscriptionData;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Broker administration as operators see it, in one JVM: topic auto-creation on first send, mqadmin updateTopic by
 * cluster and by broker address, topicStatus, consumerProgress, consumerConnection, producerConnection,
 * brokerStatus, clusterList, queryMsgById and queryMsgByKey (mqadmin text and the DefaultMQAdminExt calls behind
 * it). Also the two halves of the "offsets survive a restart" scenario and the official quickstart logic.
 */
final class BrokerAdmin {
    static final String TOPIC_C = "InteropTopicByCluster";
    static final String TOPIC_B = "InteropTopicByBroker";
    static final String AUTO_TOPIC = "InteropAutoCreated";
    private final String namesrv;
    private final String broker;
    private final int timeoutMs;

    BrokerAdmin(Args args) {
        this.namesrv = args.get("namesrv");
        this.broker = args.get("broker", "");
        this.timeoutMs = args.getInt("timeout-ms", 60000);
    }

    private Map<String, Object> mq(String... argv) throws Exception {
        return Mqadmin.run(Arrays.asList(argv));
    }

    Map<String, Object> run() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_admin_producer", "admin-producer");
        DefaultMQPushConsumer consumer = null;
        try {
            SendResult auto = producer.send(new Message(AUTO_TOPIC, "TagA", "auto-0",
                "auto".getBytes(StandardCharsets.UTF_8)));
            out.put("autoCreateSend", auto.getSendStatus().name());
            out.put("autoCreateRoute", AdminSteps.waitForRoute(admin, AUTO_TOPIC, timeoutMs));
            out.put("updateTopicByCluster", mq("updateTopic", "-n", namesrv, "-c", "DefaultCluster", "-t", TOPIC_C,
                "-r", "3", "-w", "3"));
            out.put("updateTopicByBroker", mq("updateTopic", "-n", namesrv, "-b", broker, "-t", TOPIC_B, "-r", "2",
                "-w", "2", "-p", "6"));
            out.put("routeByCluster", AdminSteps.waitForRoute(admin, TOPIC_C, timeoutMs));
            out.put("routeByBroker", AdminSteps.waitForRoute(admin, TOPIC_B, timeoutMs));
            List<String> offsetIds = new ArrayList<String>();
            Map<String, Integer> statuses = new TreeMap<String, Integer>();
            for (int i = 0; i < 9; i++) {
                Message msg = new Message(TOPIC_C, "TagA", "qkey-" + (i % 3),
                    ("admin-" + i).getBytes(StandardCharsets.UTF_8));
                msg.putUserProperty("seq", Integer.toString(i));
                SendResult r = producer.send(msg, (mqs, m, arg) -> mqs.get((Integer) arg % mqs.size()), i);
                Clients.increment(statuses, r.getSendStatus().name());
                offsetIds.add(r.getOffsetMsgId());
            }
            out.put("sends", statuses);
            final Map<String, Integer> got = new ConcurrentHashMap<String, Integer>();
            consumer = Clients.pushConsumer(namesrv, "interop_admin_consumer", "admin-consumer");
            consumer.setPersistConsumerOffsetInterval(500);
            consumer.subscribe(TOPIC_C, "TagA || TagB");
            consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    Clients.increment(got, Clients.body(m));
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            consumer.start();
            out.put("consumed", Clients.waitUntil(() -> got.size() >= 9, timeoutMs));
            out.put("consumeStats", LitePull.waitForConsumeStats(admin, "interop_admin_consumer", 9));
            out.put("topicStatusText", mq("topicStatus", "-n", namesrv, "-t", TOPIC_C));
            out.put("topicStats", topicStats(admin.examineTopicStats(TOPIC_C)));
            out.put("consumerProgressText", mq("consumerProgress", "-n", namesrv, "-g", "interop_admin_consumer"));
            out.put("consumerConnectionText", mq("consumerConnection", "-n", namesrv, "-g",
                "interop_admin_consumer"));
            out.put("consumerConnection", consumerConnection(admin.examineConsumerConnectionInfo(
                "interop_admin_consumer")));
            // The producer registers with a broker only by heartbeat: once at start (no broker known yet), then
            // 1 s after start and every 30 s, to the brokers its routes know. A first route lookup slower than 1 s
            // (a loaded machine) leaves the group unknown to either broker for 30 s: a client timing race. So the
            // scenario sends the heartbeat now, as the periodic task would, and waits until the broker lists it.
            producer.getDefaultMQProducerImpl().getmQClientFactory().sendHeartbeatToAllBrokerWithLock();
            out.put("producerRegistered", Clients.waitUntil(() -> producerListed(admin), timeoutMs));
            out.put("producerConnectionText", mq("producerConnection", "-n", namesrv, "-g", "interop_admin_producer",
                "-t", TOPIC_C));
            out.put("producerConnection", connections(admin.examineProducerConnectionInfo("interop_admin_producer",
                TOPIC_C).getConnectionSet()));
            out.put("brokerStatusText", mq("brokerStatus", "-n", namesrv, "-b", broker));
            out.put("brokerStatus", shapes(admin.fetchBrokerRuntimeStats(broker)));
            out.put("clusterList", mq("clusterList", "-n", namesrv));
            out.put("queryMsgByIdText", mq("queryMsgById", "-n", namesrv, "-i", offsetIds.get(4)));
            out.put("viewMessage", Clients.describe(admin.viewMessage(offsetIds.get(4))));
            out.put("queryMsgByKeyText", mq("queryMsgByKey", "-n", namesrv, "-t", TOPIC_C, "-k", "qkey-1"));
            QueryResult q = admin.queryMessage(TOPIC_C, "qkey-1", 32, 0, Long.MAX_VALUE);
            List<Object> found = new ArrayList<Object>();
            for (MessageExt m : q.getMessageList()) {
                found.add(Clients.describe(m));
            }
            out.put("queryMessage", Clients.sortedList(found));
        } finally {
            if (consumer != null) {
                consumer.shutdown();
            }
            producer.shutdown();
            admin.shutdown();
        }
        return out;
    }

    private static boolean producerListed(DefaultMQAdminExt admin) {
        try {
            return !admin.examineProducerConnectionInfo("interop_admin_producer", TOPIC_C).getConnectionSet().isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    static Map<String, Object> topicStats(TopicStatsTable table) {
        Map<String, Object> out = new TreeMap<String, Object>();
        for (Map.Entry<MessageQueue, TopicOffset> e : table.getOffsetTable().entrySet()) {
            Map<String, Object> q = new LinkedHashMap<String, Object>();
            q.put("minOffset", e.getValue().getMinOffset());
            q.put("maxOffset", e.getValue().getMaxOffset());
            q.put("lastUpdateTimestampSet", e.getValue().getLastUpdateTimestamp() > 0);
            out.put(e.getKey().getBrokerName() + "/" + e.getKey().getQueueId(), q);
        }
        return out;
    }

    private static Map<String, Object> consumerConnection(ConsumerConnection cc) {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("connections", connections(cc.getConnectionSet()));
        Map<String, Object> subs = new TreeMap<String, Object>();
        for (Map.Entry<String, SubscriptionData> e : cc.getSubscriptionTable().entrySet()) {
            SubscriptionData s = e.getValue();
            Map<String, Object> one = new LinkedHashMap<String, Object>();
            one.put("topic", s.getTopic());
            one.put("subString", s.getSubString());
            one.put("tagsSet", new TreeSet<String>(s.getTagsSet()));
            one.put("codeSet", new TreeSet<Integer>(s.getCodeSet()));
            one.put("expressionType", s.getExpressionType());
            one.put("classFilterMode", s.isClassFilterMode());
            one.put("subVersionSet", s.getSubVersion() > 0);
            subs.put(e.getKey(), one);
        }
        out.put("subscriptionTable", subs);
        out.put("consumeType", String.valueOf(cc.getConsumeType()));
        out.put("messageModel", String.valueOf(cc.getMessageModel()));
        out.put("consumeFromWhere", String.valueOf(cc.getConsumeFromWhere()));
        return out;
    }

    private static List<Object> connections(java.util.Set<Connection> set) {
        List<Object> out = new ArrayList<Object>();
        for (Connection c : set) {
            Map<String, Object> one = new LinkedHashMap<String, Object>();
            one.put("clientId", c.getClientId());
            one.put("clientAddr", c.getClientAddr());
            one.put("language", String.valueOf(c.getLanguage()));
            one.put("version", c.getVersion());
            out.add(one);
        }
        return Clients.sortedList(out);
    }

    /** brokerStatus: every key with the shape of its value (numbers and free text differ run to run). */
    static Map<String, String> shapes(KVTable table) {
        Map<String, String> out = new TreeMap<String, String>();
        for (Map.Entry<String, String> e : table.getTable().entrySet()) {
            out.put(e.getKey(), shape(e.getValue()));
        }
        return out;
    }

    static String shape(String v) {
        if (v == null) {
            return "null";
        }
        return v.replaceAll("\\d+", "9").replaceAll("9(\\.9)?", "N");
    }
}
