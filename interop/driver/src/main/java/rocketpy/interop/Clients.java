package rocketpy.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.body.ClusterInfo;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Shared helpers of the broker scenarios: client factories with fixed instance names (so client ids, and therefore
 * queue allocation, are the same in every run), topic creation, waits that poll instead of sleeping, and the
 * comparable description of a received message.
 */
final class Clients {
    /** Property values that are ids, offsets or times: kept as keys, their values replaced by a marker. */
    private static final String[] VOLATILE = {MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX,
        MessageConst.PROPERTY_MIN_OFFSET, MessageConst.PROPERTY_MAX_OFFSET, MessageConst.PROPERTY_CONSUME_START_TIMESTAMP};

    private Clients() {
    }

    static DefaultMQAdminExt admin(String namesrv) throws Exception {
        System.setProperty(MixAll.NAMESRV_ADDR_PROPERTY, namesrv);
        DefaultMQAdminExt admin = new DefaultMQAdminExt(15000);
        admin.setNamesrvAddr(namesrv);
        admin.setInstanceName("interop-admin-" + System.nanoTime());
        admin.start();
        return admin;
    }

    static DefaultMQProducer producer(String namesrv, String group, String instance) throws Exception {
        DefaultMQProducer producer = new DefaultMQProducer(group);
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName(instance);
        producer.setSendMsgTimeout(15000);
        producer.start();
        return producer;
    }

    static DefaultMQPushConsumer pushConsumer(String namesrv, String group, String instance) {
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
        consumer.setNamesrvAddr(namesrv);
        consumer.setInstanceName(instance);
        consumer.setConsumeFromWhere(org.apache.rocketmq.common.consumer.ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        return consumer;
    }

    /** Creates `topic` with `queues` read/write queues on every master of `cluster`, then waits for its route. */
    static void createTopic(DefaultMQAdminExt admin, String cluster, String topic, int queues) throws Exception {
        ClusterInfo info = admin.examineBrokerClusterInfo();
        if (info.getClusterAddrTable() == null || !info.getClusterAddrTable().containsKey(cluster)) {
            throw new IllegalStateException("cluster " + cluster + " is not registered: " + info.getClusterAddrTable());
        }
        TopicConfig config = new TopicConfig(topic, queues, queues, 6);
        for (String brokerName : AdminSteps.sorted(info.getClusterAddrTable().get(cluster))) {
            admin.createAndUpdateTopicConfig(
                info.getBrokerAddrTable().get(brokerName).getBrokerAddrs().get(MixAll.MASTER_ID), config);
        }
        AdminSteps.waitForRoute(admin, topic, 30000);
    }

    /** Queue ids a push consumer currently holds (its rebalance result). */
    static List<Integer> held(DefaultMQPushConsumer consumer, String topic) {
        List<Integer> out = new ArrayList<Integer>();
        for (MessageQueue mq : consumer.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable()
            .keySet()) {
            if (mq.getTopic().equals(topic)) {
                out.add(mq.getQueueId());
            }
        }
        Collections.sort(out);
        return out;
    }

    /**
     * Polls until the consumers hold disjoint queue sets covering all `queues` queues and the sizes differ by at
     * most one (AllocateMessageQueueAveragely converged); returns {instance: queue ids}.
     */
    static Map<String, List<Integer>> waitForAllocation(Map<String, DefaultMQPushConsumer> consumers, String topic,
        int queues, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        Map<String, List<Integer>> seen = new TreeMap<String, List<Integer>>();
        while (true) {
            seen.clear();
            TreeSet<Integer> union = new TreeSet<Integer>();
            int total = 0;
            int min = Integer.MAX_VALUE;
            int max = 0;
            for (Map.Entry<String, DefaultMQPushConsumer> e : consumers.entrySet()) {
                List<Integer> ids = held(e.getValue(), topic);
                seen.put(e.getKey(), ids);
                union.addAll(ids);
                total += ids.size();
                min = Math.min(min, ids.size());
                max = Math.max(max, ids.size());
            }
            if (union.size() == queues && total == queues && max - min <= 1) {
                return new TreeMap<String, List<Integer>>(seen);
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("queue allocation did not converge within " + timeoutMs + " ms: "
                    + seen);
            }
            Thread.sleep(100);
        }
    }

    /** Polls `done` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
    static boolean waitUntil(java.util.function.BooleanSupplier done, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!done.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    static String body(MessageExt m) {
        return new String(m.getBody(), StandardCharsets.UTF_8);
    }

    /** Properties of a received message with id/offset/time values replaced (their keys are kept). */
    static Map<String, String> properties(MessageExt m) {
        Map<String, String> props = new TreeMap<String, String>(m.getProperties());
        for (String key : VOLATILE) {
            if (props.containsKey(key)) {
                props.put(key, "<volatile>");
            }
        }
        return props;
    }

    /** A received message as compared across targets: everything but ids, offsets, times and addresses. */
    static Map<String, Object> describe(MessageExt m) {
        Map<String, Object> one = new LinkedHashMap<String, Object>();
        one.put("topic", m.getTopic());
        one.put("body", body(m));
        one.put("bodyLength", m.getBody().length);
        one.put("tags", m.getTags());
        one.put("keys", m.getKeys());
        one.put("flag", m.getFlag());
        one.put("sysFlag", m.getSysFlag());
        one.put("reconsumeTimes", m.getReconsumeTimes());
        one.put("storeSize", m.getStoreSize());
        one.put("bornHost", String.valueOf(m.getBornHost()));
        one.put("storeHost", String.valueOf(m.getStoreHost()));
        one.put("properties", properties(m));
        return one;
    }

    static <T> List<T> sortedList(Collection<T> values) {
        List<T> out = new ArrayList<T>(values);
        Collections.sort(out, (a, b) -> String.valueOf(a).compareTo(String.valueOf(b)));
        return out;
    }

    static void increment(Map<String, Integer> counts, String key) {
        synchronized (counts) {
            Integer seen = counts.get(key);
            counts.put(key, seen == null ? 1 : seen + 1);
        }
    }
}
