package rocketpy.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.protocol.body.ClusterInfo;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * The "produce-consume" scenario: a topic is created on the cluster's master broker through the admin API, a
 * DefaultMQProducer resolves its route through {@code --namesrv} and sends {@code --count} messages, and a
 * DefaultMQPushConsumer (a fresh group, consuming from the first offset) receives them.
 *
 * <p>Observed: the route the NameServer served, every send status, and every received message (body, tags, keys,
 * topic, reconsume times). Message ids and offsets are left out: they are ids.
 */
final class Messaging {
    private final String namesrv;
    private final String cluster;
    private final String topic;
    private final int count;
    private final int timeoutMs;

    Messaging(Args args) {
        this.namesrv = args.get("namesrv");
        this.cluster = args.get("cluster", "DefaultCluster");
        this.topic = args.get("topic", "InteropTopic");
        this.count = args.getInt("count", 20);
        this.timeoutMs = args.getInt("timeout-ms", 60000);
    }

    Map<String, Object> run() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("route", createTopic());
        out.put("sendStatuses", produce());
        out.put("received", consume());
        return out;
    }

    private TopicRouteData createTopic() throws Exception {
        DefaultMQAdminExt admin = new DefaultMQAdminExt(15000);
        admin.setNamesrvAddr(namesrv);
        admin.setInstanceName("interop-admin-" + System.nanoTime());
        admin.start();
        try {
            ClusterInfo info = admin.examineBrokerClusterInfo();
            if (info.getClusterAddrTable() == null || !info.getClusterAddrTable().containsKey(cluster)) {
                throw new IllegalStateException("cluster " + cluster + " is not registered: "
                    + info.getClusterAddrTable());
            }
            TopicConfig config = new TopicConfig(topic, 4, 4, 6);
            for (String brokerName : AdminSteps.sorted(info.getClusterAddrTable().get(cluster))) {
                String addr = info.getBrokerAddrTable().get(brokerName).getBrokerAddrs().get(MixAll.MASTER_ID);
                admin.createAndUpdateTopicConfig(addr, config);
            }
            return AdminSteps.waitForRoute(admin, topic, timeoutMs);
        } finally {
            admin.shutdown();
        }
    }

    private Map<String, Integer> produce() throws Exception {
        DefaultMQProducer producer = new DefaultMQProducer("interop_producer_" + System.nanoTime());
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName("interop-producer-" + System.nanoTime());
        producer.start();
        Map<String, Integer> statuses = new TreeMap<String, Integer>();
        try {
            for (int i = 0; i < count; i++) {
                Message msg = new Message(topic, "TagA", "key-" + i, ("body-" + i).getBytes(StandardCharsets.UTF_8));
                SendResult result = producer.send(msg);
                String status = result.getSendStatus().name();
                Integer seen = statuses.get(status);
                statuses.put(status, seen == null ? 1 : seen + 1);
            }
        } finally {
            producer.shutdown();
        }
        return statuses;
    }

    private List<Map<String, Object>> consume() throws Exception {
        final ConcurrentLinkedQueue<Map<String, Object>> received = new ConcurrentLinkedQueue<Map<String, Object>>();
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer("interop_consumer_" + System.nanoTime());
        consumer.setNamesrvAddr(namesrv);
        consumer.setInstanceName("interop-consumer-" + System.nanoTime());
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe(topic, "*");
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
            for (MessageExt m : msgs) {
                received.add(describe(m));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        try {
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (received.size() < count && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
        } finally {
            consumer.shutdown();
        }
        List<Map<String, Object>> out = new ArrayList<Map<String, Object>>(received);
        Collections.sort(out, (a, b) -> String.valueOf(a.get("body")).compareTo(String.valueOf(b.get("body"))));
        return out;
    }

    private static Map<String, Object> describe(MessageExt m) {
        Map<String, Object> one = new LinkedHashMap<String, Object>();
        one.put("topic", m.getTopic());
        one.put("body", new String(m.getBody(), StandardCharsets.UTF_8));
        one.put("tags", m.getTags());
        one.put("keys", m.getKeys());
        one.put("reconsumeTimes", m.getReconsumeTimes());
        return one;
    }
}
