package rocketpy.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * "offsets-before" / "offsets-after": the halves of the restart scenario (the harness restarts the broker in
 * between). Before: {@code --count} messages sent, a push consumer group consumes them all and shuts down (its
 * offsets are committed). After: the committed offsets are read back, {@code --count} more are sent, and the same
 * group resumes, receiving only the new ones. Also "quickstart": the official quickstart Producer and Consumer.
 */
final class Restarts {
    static final String TOPIC = "InteropRestartTopic";
    static final String GROUP = "interop_restart_consumer";
    private final String namesrv;
    private final int count;
    private final int timeoutMs;

    Restarts(Args args) {
        this.namesrv = args.get("namesrv");
        this.count = args.getInt("count", 40);
        this.timeoutMs = args.getInt("timeout-ms", 60000);
    }

    private Map<String, Integer> send(String prefix) throws Exception {
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_restart_producer", "restart-producer");
        Map<String, Integer> statuses = new TreeMap<String, Integer>();
        try {
            for (int i = 0; i < count; i++) {
                Message msg = new Message(TOPIC, "TagA", (prefix + "-" + i).getBytes(StandardCharsets.UTF_8));
                Clients.increment(statuses, producer.send(msg, (mqs, m, arg) -> mqs.get((Integer) arg % mqs.size()),
                    i).getSendStatus().name());
            }
        } finally {
            producer.shutdown();
        }
        return statuses;
    }

    /** Consumes with the group until `prefix` messages all came, then a short look for anything else. */
    private Map<String, Object> consume(String prefix) throws Exception {
        final Map<String, Integer> counts = new ConcurrentHashMap<String, Integer>();
        DefaultMQPushConsumer c = Clients.pushConsumer(namesrv, GROUP, "restart-consumer");
        c.setPersistConsumerOffsetInterval(500);
        c.subscribe(TOPIC, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                Clients.increment(counts, Clients.body(m));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        boolean all = Clients.waitUntil(() -> {
            for (int i = 0; i < count; i++) {
                if (!counts.containsKey(prefix + "-" + i)) {
                    return false;
                }
            }
            return true;
        }, timeoutMs);
        Thread.sleep(1000);
        c.shutdown();
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("complete", all);
        out.put("received", new TreeMap<String, Integer>(counts));
        return out;
    }

    Map<String, Object> before() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        try {
            Clients.createTopic(admin, "DefaultCluster", TOPIC, 4);
            out.put("sends", send("r1"));
            out.put("consumed", consume("r1"));
            out.put("consumeStats", LitePull.waitForConsumeStats(admin, GROUP, count));
        } finally {
            admin.shutdown();
        }
        return out;
    }

    Map<String, Object> after() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        try {
            AdminSteps.waitForRoute(admin, TOPIC, timeoutMs);
            out.put("consumeStatsAfterRestart", LitePull.waitForConsumeStats(admin, GROUP, count));
            out.put("sends", send("r2"));
            out.put("consumed", consume("r2"));
            out.put("consumeStats", LitePull.waitForConsumeStats(admin, GROUP, 2L * count));
        } finally {
            admin.shutdown();
        }
        return out;
    }

    /**
     * org.apache.rocketmq.example.quickstart.Producer and Consumer (4.9.x) as published: group
     * "please_rename_unique_group_name", 1000 x "Hello RocketMQ i" to TopicTest/TagA (auto-created), then a push
     * consumer "please_rename_unique_group_name_4" from the first offset. Only the printing is replaced by counting.
     */
    Map<String, Object> quickstart() throws Exception {
        int n = 1000;
        DefaultMQProducer producer = new DefaultMQProducer("please_rename_unique_group_name");
        producer.setNamesrvAddr(namesrv);
        producer.start();
        Map<String, Integer> statuses = new TreeMap<String, Integer>();
        for (int i = 0; i < n; i++) {
            Message msg = new Message("TopicTest", "TagA",
                ("Hello RocketMQ " + i).getBytes(org.apache.rocketmq.remoting.common.RemotingHelper.DEFAULT_CHARSET));
            Clients.increment(statuses, producer.send(msg).getSendStatus().name());
        }
        producer.shutdown();
        final Map<String, Integer> counts = new ConcurrentHashMap<String, Integer>();
        final List<String> tags = java.util.Collections.synchronizedList(new ArrayList<String>());
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer("please_rename_unique_group_name_4");
        consumer.setNamesrvAddr(namesrv);
        consumer.setConsumeFromWhere(org.apache.rocketmq.common.consumer.ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe("TopicTest", "*");
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
            for (MessageExt m : msgs) {
                Clients.increment(counts, Clients.body(m));
                if (!"TagA".equals(m.getTags())) {
                    tags.add(String.valueOf(m.getTags()));
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        boolean all = Clients.waitUntil(() -> counts.size() >= n, timeoutMs);
        Thread.sleep(500);
        consumer.shutdown();
        int missing = 0;
        int dup = 0;
        for (int i = 0; i < n; i++) {
            Integer c = counts.get("Hello RocketMQ " + i);
            if (c == null) {
                missing++;
            } else {
                dup += c - 1;
            }
        }
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("sendStatuses", statuses);
        out.put("complete", all);
        out.put("received", counts.size());
        out.put("missing", missing);
        out.put("duplicates", dup);
        out.put("otherTags", tags);
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        try {
            out.put("route", admin.examineTopicRouteInfo("TopicTest"));
        } finally {
            admin.shutdown();
        }
        return out;
    }
}
