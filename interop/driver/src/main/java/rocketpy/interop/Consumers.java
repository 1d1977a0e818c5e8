package rocketpy.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.MessageQueueSelector;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.heartbeat.MessageModel;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Push-consumer scenarios: "ordered" (MessageQueueSelector + MessageListenerOrderly, two consumers), "clustering"
 * (three consumers share the queues, one leaves and one joins between phases), "broadcasting" (two consumers each
 * get everything) and "tag-filter" (subscription "TagA || TagB"). Instance names are fixed so client ids, and
 * therefore the averaged queue allocation, are the same in every run.
 */
final class Consumers {
    private final String namesrv;
    private final String topic;
    private final int count;
    private final int timeoutMs;

    Consumers(Args args) {
        this.namesrv = args.get("namesrv");
        this.topic = args.get("topic");
        this.count = args.getInt("count", 64);
        this.timeoutMs = args.getInt("timeout-ms", 90000);
    }

    private void createTopic(int queues) throws Exception {
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        try {
            Clients.createTopic(admin, "DefaultCluster", topic, queues);
        } finally {
            admin.shutdown();
        }
    }

    private static final MessageQueueSelector BY_ORDER_ID = (mqs, msg, arg) -> mqs.get((Integer) arg % mqs.size());

    Map<String, Object> ordered() throws Exception {
        createTopic(4);
        final int orders = 8;
        final Map<String, List<String>> byOrder = new ConcurrentHashMap<String, List<String>>();
        final Map<String, String> consumerOfOrder = new ConcurrentHashMap<String, String>();
        Map<String, DefaultMQPushConsumer> consumers = new TreeMap<String, DefaultMQPushConsumer>();
        for (final String name : new String[] {"ordered-c1", "ordered-c2"}) {
            DefaultMQPushConsumer c = Clients.pushConsumer(namesrv, "interop_ordered_consumer", name);
            c.subscribe(topic, "*");
            c.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    String order = m.getUserProperty("order");
                    byOrder.computeIfAbsent(order, k -> java.util.Collections.synchronizedList(new ArrayList<String>()))
                        .add(m.getUserProperty("step"));
                    consumerOfOrder.put(order + "@q" + m.getQueueId(), name);
                }
                return ConsumeOrderlyStatus.SUCCESS;
            });
            c.start();
            consumers.put(name, c);
        }
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("allocation", Clients.waitForAllocation(consumers, topic, 4, timeoutMs));
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_ordered_producer", "ordered-producer");
        Map<String, Integer> statuses = new TreeMap<String, Integer>();
        Map<String, Integer> queueOfOrder = new TreeMap<String, Integer>();
        try {
            for (int step = 0; step < count; step++) {
                for (int order = 0; order < orders; order++) {
                    Message msg = new Message(topic, "TagA", "order-" + order,
                        ("order-" + order + "-step-" + step).getBytes(StandardCharsets.UTF_8));
                    msg.putUserProperty("order", Integer.toString(order));
                    msg.putUserProperty("step", Integer.toString(step));
                    org.apache.rocketmq.client.producer.SendResult r = producer.send(msg, BY_ORDER_ID, order);
                    Clients.increment(statuses, r.getSendStatus().name());
                    queueOfOrder.put("order-" + order, r.getMessageQueue().getQueueId());
                }
            }
        } finally {
            producer.shutdown();
        }
        boolean all = Clients.waitUntil(() -> total(byOrder) >= orders * count, timeoutMs);
        for (DefaultMQPushConsumer c : consumers.values()) {
            c.shutdown();
        }
        Map<String, Object> perOrder = new TreeMap<String, Object>();
        for (int order = 0; order < orders; order++) {
            List<String> steps = byOrder.get(Integer.toString(order));
            Map<String, Object> o = new LinkedHashMap<String, Object>();
            o.put("received", steps == null ? 0 : steps.size());
            o.put("inSendOrder", steps != null && inOrder(steps));
            perOrder.put("order-" + order, o);
        }
        out.put("sendStatuses", statuses);
        out.put("queueOfOrder", queueOfOrder);
        out.put("allReceivedInTime", all);
        out.put("perOrder", perOrder);
        out.put("consumerOfOrderQueue", new TreeMap<String, String>(consumerOfOrder));
        return out;
    }

    private static int total(Map<String, List<String>> byOrder) {
        int n = 0;
        for (List<String> l : byOrder.values()) {
            n += l.size();
        }
        return n;
    }

    private boolean inOrder(List<String> steps) {
        synchronized (steps) {
            if (steps.size() != count) {
                return false;
            }
            for (int i = 0; i < steps.size(); i++) {
                if (!Integer.toString(i).equals(steps.get(i))) {
                    return false;
                }
            }
            return true;
        }
    }

    private DefaultMQPushConsumer concurrent(String group, String instance, String expr, MessageModel model,
        final Map<String, Integer> counts, final Map<String, String> tags) throws Exception {
        DefaultMQPushConsumer c = Clients.pushConsumer(namesrv, group, instance);
        c.setMessageModel(model);
        c.setPersistConsumerOffsetInterval(200);
        c.subscribe(topic, expr);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                String body = Clients.body(m);
                Clients.increment(counts, body);
                if (tags != null) {
                    tags.put(body, String.valueOf(m.getTags()));
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        return c;
    }

    private Map<String, Integer> send(String prefix, int n, String[] tagCycle) throws Exception {
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_consumers_producer", "consumers-producer");
        Map<String, Integer> statuses = new TreeMap<String, Integer>();
        try {
            for (int i = 0; i < n; i++) {
                String tag = tagCycle[i % tagCycle.length];
                Message msg = new Message(topic, tag, (prefix + "-" + i).getBytes(StandardCharsets.UTF_8));
                if (tag == null) {
                    msg = new Message(topic, (prefix + "-" + i).getBytes(StandardCharsets.UTF_8));
                }
                Clients.increment(statuses, producer.send(msg).getSendStatus().name());
            }
        } finally {
            producer.shutdown();
        }
        return statuses;
    }

    private static Map<String, Object> tally(Map<String, Integer> counts, String prefix, int n) {
        int missing = 0;
        int dup = 0;
        for (int i = 0; i < n; i++) {
            Integer c = counts.get(prefix + "-" + i);
            if (c == null) {
                missing++;
            } else {
                dup += c - 1;
            }
        }
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("missing", missing);
        out.put("duplicates", dup);
        return out;
    }

    private static boolean complete(Map<String, Integer> counts, String prefix, int n) {
        for (int i = 0; i < n; i++) {
            if (!counts.containsKey(prefix + "-" + i)) {
                return false;
            }
        }
        return true;
    }

    Map<String, Object> clustering() throws Exception {
        createTopic(6);
        final Map<String, Integer> counts = new ConcurrentHashMap<String, Integer>();
        Map<String, DefaultMQPushConsumer> consumers = new TreeMap<String, DefaultMQPushConsumer>();
        String group = "interop_clustering_consumer";
        for (String name : new String[] {"cl-c1", "cl-c2", "cl-c3"}) {
            consumers.put(name, concurrent(group, name, "*", MessageModel.CLUSTERING, counts, null));
        }
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        String[] tags = {"TagA"};
        out.put("allocationThree", Clients.waitForAllocation(consumers, topic, 6, timeoutMs));
        out.put("phase1Sends", send("p1", count, tags));
        out.put("phase1Complete", Clients.waitUntil(() -> complete(counts, "p1", count), timeoutMs));
        // Membership changes only once the consumed offsets reached the broker: otherwise a queue's next owner
        // starts from an older commit and re-delivers, and the count of duplicates would depend on timing.
        out.put("committedAfterPhase1", committed(group, count));
        consumers.remove("cl-c3").shutdown();
        out.put("allocationAfterLeave", Clients.waitForAllocation(consumers, topic, 6, timeoutMs));
        out.put("phase2Sends", send("p2", count, tags));
        out.put("phase2Complete", Clients.waitUntil(() -> complete(counts, "p2", count), timeoutMs));
        out.put("committedAfterPhase2", committed(group, 2 * count));
        consumers.put("cl-c4", concurrent(group, "cl-c4", "*", MessageModel.CLUSTERING, counts, null));
        out.put("allocationAfterJoin", Clients.waitForAllocation(consumers, topic, 6, timeoutMs));
        out.put("phase3Sends", send("p3", count, tags));
        out.put("phase3Complete", Clients.waitUntil(() -> complete(counts, "p3", count), timeoutMs));
        Thread.sleep(500);
        for (DefaultMQPushConsumer c : consumers.values()) {
            c.shutdown();
        }
        for (String p : new String[] {"p1", "p2", "p3"}) {
            out.put(p, tally(counts, p, count));
        }
        return out;
    }

    private Map<String, Object> committed(String group, long sum) throws Exception {
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        try {
            return LitePull.waitForConsumeStats(admin, group, sum);
        } finally {
            admin.shutdown();
        }
    }

    Map<String, Object> broadcasting() throws Exception {
        createTopic(4);
        Map<String, Map<String, Integer>> counts = new TreeMap<String, Map<String, Integer>>();
        List<DefaultMQPushConsumer> consumers = new ArrayList<DefaultMQPushConsumer>();
        for (String name : new String[] {"bc-c1", "bc-c2"}) {
            Map<String, Integer> mine = new ConcurrentHashMap<String, Integer>();
            counts.put(name, mine);
            consumers.add(concurrent("interop_broadcast_consumer", name, "*", MessageModel.BROADCASTING, mine, null));
        }
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        // Broadcasting consumers each hold every queue once rebalanced.
        Clients.waitUntil(() -> {
            for (DefaultMQPushConsumer c : consumers) {
                if (Clients.held(c, topic).size() != 4) {
                    return false;
                }
            }
            return true;
        }, timeoutMs);
        List<Object> held = new ArrayList<Object>();
        for (DefaultMQPushConsumer c : consumers) {
            held.add(Clients.held(c, topic));
        }
        out.put("held", held);
        out.put("sends", send("bc", count, new String[] {"TagA"}));
        out.put("allComplete", Clients.waitUntil(() -> {
            for (Map<String, Integer> m : counts.values()) {
                if (!complete(m, "bc", count)) {
                    return false;
                }
            }
            return true;
        }, timeoutMs));
        Thread.sleep(500);
        for (DefaultMQPushConsumer c : consumers) {
            c.shutdown();
        }
        for (Map.Entry<String, Map<String, Integer>> e : counts.entrySet()) {
            out.put(e.getKey(), tally(e.getValue(), "bc", count));
        }
        return out;
    }

    Map<String, Object> tagFilter() throws Exception {
        createTopic(4);
        final Map<String, Integer> counts = new ConcurrentHashMap<String, Integer>();
        final Map<String, String> tags = new ConcurrentHashMap<String, String>();
        DefaultMQPushConsumer c = concurrent("interop_tag_consumer", "tag-c1", "TagA || TagB",
            MessageModel.CLUSTERING, counts, tags);
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        String[] cycle = {"TagA", "TagB", "TagC", null, "TagAB"};
        out.put("sends", send("tf", count, cycle));
        final AtomicInteger wanted = new AtomicInteger();
        for (int i = 0; i < count; i++) {
            String t = cycle[i % cycle.length];
            if ("TagA".equals(t) || "TagB".equals(t)) {
                wanted.incrementAndGet();
            }
        }
        out.put("wantedComplete", Clients.waitUntil(() -> counts.size() >= wanted.get(), timeoutMs));
        // Anything unwanted would have come with the wanted messages of the same queues; give it a moment.
        Thread.sleep(1500);
        c.shutdown();
        out.put("received", new TreeMap<String, String>(tags));
        out.put("duplicates", tally(counts, "tf", count).get("duplicates"));
        return out;
    }
}
