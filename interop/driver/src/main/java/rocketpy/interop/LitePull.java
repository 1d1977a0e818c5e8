package rocketpy.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.admin.ConsumeStats;
import org.apache.rocketmq.common.admin.OffsetWrapper;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * The "lite-pull" scenario: {@code --count} messages spread over 4 queues by a selector (message i to queue i % 4),
 * then a DefaultLitePullConsumer in subscribe mode (default consumeFromWhere: a new group must still start at 0
 * while the messages are in memory) and one in assign mode with seek / seekToBegin / seekToEnd, an illegal seek,
 * manual commits, and the committed offsets read back through the consumer and through GET_CONSUME_STATS.
 */
final class LitePull {
    private final String namesrv;
    private final String topic;
    private final int count;
    private final int timeoutMs;

    LitePull(Args args) {
        this.namesrv = args.get("namesrv");
        this.topic = args.get("topic", "InteropLitePullTopic");
        this.count = args.getInt("count", 40);
        this.timeoutMs = args.getInt("timeout-ms", 60000);
    }

    Map<String, Object> run() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        try {
            Clients.createTopic(admin, "DefaultCluster", topic, 4);
            out.put("sends", send());
            out.put("subscribe", subscribeMode(admin));
            out.put("assign", assignMode(admin));
        } finally {
            admin.shutdown();
        }
        return out;
    }

    private Map<String, Integer> send() throws Exception {
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_lite_producer", "lite-producer");
        Map<String, Integer> statuses = new TreeMap<String, Integer>();
        try {
            for (int i = 0; i < count; i++) {
                Message msg = new Message(topic, "TagA", "lp-" + i, ("lp-" + i).getBytes(StandardCharsets.UTF_8));
                Clients.increment(statuses, producer.send(msg, (mqs, m, arg) -> mqs.get((Integer) arg % mqs.size()),
                    i).getSendStatus().name());
            }
        } finally {
            producer.shutdown();
        }
        return statuses;
    }

    private DefaultLitePullConsumer consumer(String group, String instance) {
        DefaultLitePullConsumer c = new DefaultLitePullConsumer(group);
        c.setNamesrvAddr(namesrv);
        c.setInstanceName(instance);
        c.setAutoCommit(false);
        c.setPollTimeoutMillis(500);
        // Commits reach the broker as oneway UPDATE_CONSUMER_OFFSET from the periodic persist (and at shutdown,
        // racing the connection close): persist often and read the stats back while the consumer still runs.
        c.setPersistConsumerOffsetInterval(300);
        return c;
    }

    /** Polls until `expected` messages came or time runs out; {queueId: [queue offsets in arrival order]}. */
    private Map<String, List<Long>> pollAll(DefaultLitePullConsumer c, int expected, List<String> bodies)
        throws InterruptedException {
        Map<String, List<Long>> offsets = new TreeMap<String, List<Long>>();
        long deadline = System.currentTimeMillis() + timeoutMs;
        int got = 0;
        while (got < expected && System.currentTimeMillis() < deadline) {
            for (MessageExt m : c.poll()) {
                offsets.computeIfAbsent("q" + m.getQueueId(), k -> new ArrayList<Long>()).add(m.getQueueOffset());
                bodies.add(Clients.body(m));
                got++;
            }
        }
        // Nothing more may arrive: poll once more briefly.
        for (MessageExt m : c.poll(300)) {
            offsets.computeIfAbsent("q" + m.getQueueId(), k -> new ArrayList<Long>()).add(m.getQueueOffset());
            bodies.add(Clients.body(m) + " (extra)");
        }
        return offsets;
    }

    private Map<String, Object> subscribeMode(DefaultMQAdminExt admin) throws Exception {
        DefaultLitePullConsumer c = consumer("interop_lite_subscribe", "lite-sub");
        c.subscribe(topic, "*");
        c.start();
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        try {
            List<String> bodies = new ArrayList<String>();
            Map<String, List<Long>> offsets = pollAll(c, count, bodies);
            out.put("offsets", offsets);
            out.put("bodies", Clients.sortedList(bodies));
            c.commitSync();
            out.put("committed", committed(c, c.assignment()));
            out.put("consumeStats", waitForConsumeStats(admin, "interop_lite_subscribe", count));
        } finally {
            c.shutdown();
        }
        return out;
    }

    /**
     * Assign mode. The queues are assigned and paused before start() and resumed only after the seeks: a seek that
     * lands while a pull task already has a pull of the queue in flight races the client itself
     * (DefaultLitePullConsumerImpl 4.9.8: the old task may take the queue lock after the new task has consumed the
     * seek offset, and then also delivers what it pulled from the committed offset). That race was seen only against
     * rocketpy, whose faster answers widen the window; both brokers answer the first QUERY_CONSUMER_OFFSET of a new
     * group with 0 while the messages are in memory. A paused queue's task reschedules itself without pulling, so
     * no pull is in flight at a seek and the offsets, bodies and commits compared below are deterministic.
     */
    private Map<String, Object> assignMode(DefaultMQAdminExt admin) throws Exception {
        DefaultLitePullConsumer c = consumer("interop_lite_assign", "lite-assign");
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        try {
            List<MessageQueue> mqs = new ArrayList<MessageQueue>();
            for (org.apache.rocketmq.common.protocol.route.QueueData qd
                : admin.examineTopicRouteInfo(topic).getQueueDatas()) {
                for (int q = 0; q < qd.getReadQueueNums(); q++) {
                    mqs.add(new MessageQueue(topic, qd.getBrokerName(), q));
                }
            }
            mqs.sort((a, b) -> Integer.compare(a.getQueueId(), b.getQueueId()));
            out.put("queues", mqs.size());
            c.assign(mqs);
            c.pause(mqs);
            c.start();
            out.put("fetchedQueues", c.fetchMessageQueues(topic).size());
            c.seek(mqs.get(0), 5);
            c.seekToBegin(mqs.get(1));
            c.seekToEnd(mqs.get(2));
            c.seek(mqs.get(3), 2);
            try {
                c.seek(mqs.get(3), 100000);
                out.put("illegalSeek", "accepted");
            } catch (Exception e) {
                out.put("illegalSeek", Errors.describe(e));
            }
            c.resume(mqs);
            int perQueue = count / 4;
            int expected = (perQueue - 5) + perQueue + 0 + (perQueue - 2);
            List<String> bodies = new ArrayList<String>();
            out.put("offsets", pollAll(c, expected, bodies));
            out.put("bodies", Clients.sortedList(bodies));
            c.commitSync();
            out.put("committed", committed(c, mqs));
            out.put("consumeStatsAfterCommit", waitForConsumeStats(admin, "interop_lite_assign", count));
            // commitSync(map, true) persists only the given queues and drops the others from the client's offset
            // table (RemoteBrokerOffsetStore.persistAll): their committed() is then read from the broker.
            Map<MessageQueue, Long> explicit = new java.util.HashMap<MessageQueue, Long>();
            explicit.put(mqs.get(0), 3L);
            c.commitSync(explicit, true);
            out.put("committedAfterExplicit", committed(c, mqs));
            out.put("consumeStats", waitForConsumeStats(admin, "interop_lite_assign", count - (count / 4 - 3)));
        } finally {
            c.shutdown();
        }
        return out;
    }

    private static Map<String, Long> committed(DefaultLitePullConsumer c, Collection<MessageQueue> mqs)
        throws Exception {
        Map<String, Long> out = new TreeMap<String, Long>();
        for (MessageQueue mq : mqs) {
            out.put("q" + mq.getQueueId(), c.committed(mq));
        }
        return out;
    }

    /** Polls GET_CONSUME_STATS until the group's consumer offsets sum to `sum` (commits travel oneway). */
    static Map<String, Object> waitForConsumeStats(DefaultMQAdminExt admin, String group, long sum) throws Exception {
        long deadline = System.currentTimeMillis() + 20000;
        Map<String, Object> last = null;
        while (true) {
            long total = 0;
            try {
                last = consumeStats(admin.examineConsumeStats(group));
                for (Object v : last.values()) {
                    @SuppressWarnings("unchecked")
                    Map<String, Long> q = (Map<String, Long>) v;
                    total += q.get("consumerOffset");
                }
            } catch (Exception e) {
                last = new TreeMap<String, Object>();
                last.put("error", Errors.describe(e));
            }
            if (total == sum || System.currentTimeMillis() > deadline) {
                return last;
            }
            Thread.sleep(100);
        }
    }

    /**
     * {topic/queueId: {brokerOffset, consumerOffset}}; lastTimestamp is a time and left out. So is the group's
     * retry topic: whether its (empty) queue has an offset yet depends on time alone (a push consumer records
     * offset 0 only when its first long-polling pull of the empty queue returns, up to 15 s after start).
     */
    static Map<String, Object> consumeStats(ConsumeStats stats) {
        Map<String, Object> out = new TreeMap<String, Object>();
        for (Map.Entry<MessageQueue, OffsetWrapper> e : stats.getOffsetTable().entrySet()) {
            if (e.getKey().getTopic().startsWith("%RETRY%")) {
                continue;
            }
            Map<String, Long> q = new LinkedHashMap<String, Long>();
            q.put("brokerOffset", e.getValue().getBrokerOffset());
            q.put("consumerOffset", e.getValue().getConsumerOffset());
            out.put(e.getKey().getTopic() + "/" + e.getKey().getBrokerName() + "/" + e.getKey().getQueueId(), q);
        }
        return out;
    }
}
