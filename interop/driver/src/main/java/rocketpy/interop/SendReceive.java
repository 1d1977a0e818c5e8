package rocketpy.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * The "send-receive" scenario: a DefaultMQProducer sends feature messages in every mode (sync, async, oneway, batch,
 * and bodies over the 4 KiB compression threshold) carrying keys, tags and user properties, then {@code --bulk}
 * small messages (half async with bounded concurrency, half in batches of 100). One push consumer receives
 * everything from the first offset.
 *
 * <p>Observed: send statuses per mode, every feature message as received (body, tags, keys, properties, flags,
 * store size), and for the bulk part the number received, missing and duplicated.
 */
final class SendReceive {
    private static final int FEATURES_PER_MODE = 8;
    private static final int BATCH = 100;

    private final String namesrv;
    private final String topic;
    private final int bulk;
    private final int timeoutMs;
    private final Map<String, Integer> featureCounts = new ConcurrentHashMap<String, Integer>();
    private final Map<String, Map<String, Object>> features = new ConcurrentHashMap<String, Map<String, Object>>();
    private final AtomicIntegerArray bulkCounts;
    private final AtomicLong bulkReceived = new AtomicLong();
    private final AtomicLong unexpected = new AtomicLong();

    SendReceive(Args args) {
        this.namesrv = args.get("namesrv");
        this.topic = args.get("topic", "InteropSendTopic");
        this.bulk = args.getInt("bulk", 100000);
        this.timeoutMs = args.getInt("timeout-ms", 300000);
        this.bulkCounts = new AtomicIntegerArray(Math.max(bulk, 1));
    }

    Map<String, Object> run() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        try {
            Clients.createTopic(admin, "DefaultCluster", topic, 4);
        } finally {
            admin.shutdown();
        }
        DefaultMQPushConsumer consumer = startConsumer();
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_send_producer", "send-producer");
        long start = System.currentTimeMillis();
        try {
            out.put("featureSends", sendFeatures(producer));
            out.put("bulkSends", sendBulk(producer));
        } finally {
            producer.shutdown();
        }
        long sent = System.currentTimeMillis();
        final int expectedFeatures = 5 * FEATURES_PER_MODE;
        boolean all = Clients.waitUntil(() -> featureCounts.size() >= expectedFeatures && allBulk(), timeoutMs);
        long received = System.currentTimeMillis();
        Thread.sleep(1000); // a short look for late duplicates
        consumer.shutdown();
        System.err.println("send-receive timing: send " + (sent - start) + " ms, receive-complete " + (received - start)
            + " ms, bulk " + bulk);
        out.put("allReceivedInTime", all);
        out.put("features", new TreeMap<String, Object>(features));
        out.put("featureDuplicates", duplicates(featureCounts));
        out.put("bulk", bulkSummary());
        out.put("unexpectedMessages", unexpected.get());
        return out;
    }

    private DefaultMQPushConsumer startConsumer() throws Exception {
        DefaultMQPushConsumer consumer = Clients.pushConsumer(namesrv, "interop_send_consumer", "send-consumer");
        consumer.subscribe(topic, "*");
        consumer.setConsumeMessageBatchMaxSize(32);
        consumer.setPullBatchSize(64);
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
            for (MessageExt m : msgs) {
                record(m);
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        return consumer;
    }

    private void record(MessageExt m) {
        String body = Clients.body(m);
        if (body.startsWith("bulk-")) {
            int i = Integer.parseInt(body.substring(5));
            if (i >= 0 && i < bulk) {
                bulkCounts.incrementAndGet(i);
                bulkReceived.incrementAndGet();
                return;
            }
        } else if (body.startsWith("feature-")) {
            String id = body.length() > 40 ? body.substring(0, body.indexOf('|')) : body;
            Map<String, Object> d = Clients.describe(m);
            if (body.length() > 40) {
                d.put("body", id + "|<" + body.length() + " chars, intact=" + body.equals(bigBody(id)) + ">");
            }
            features.put(id, d);
            Clients.increment(featureCounts, id);
            return;
        }
        unexpected.incrementAndGet();
    }

    private boolean allBulk() {
        return bulkReceived.get() >= bulk && bulkMissing() == 0;
    }

    private int bulkMissing() {
        int missing = 0;
        for (int i = 0; i < bulk; i++) {
            if (bulkCounts.get(i) == 0) {
                missing++;
            }
        }
        return missing;
    }

    private Map<String, Object> bulkSummary() {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        int dup = 0;
        for (int i = 0; i < bulk; i++) {
            dup += Math.max(0, bulkCounts.get(i) - 1);
        }
        out.put("sent", bulk);
        out.put("missing", bulkMissing());
        out.put("duplicates", dup);
        return out;
    }

    private static int duplicates(Map<String, Integer> counts) {
        int dup = 0;
        for (int c : counts.values()) {
            dup += c - 1;
        }
        return dup;
    }

    /** A compressible body over the 4 KiB default compressMsgBodyOverHowmuch, recognisable after the round trip. */
    static String bigBody(String id) {
        StringBuilder sb = new StringBuilder(id).append('|');
        for (int i = 0; sb.length() < 12000; i++) {
            sb.append("line ").append(i).append(" of a compressible body;");
        }
        return sb.toString();
    }

    private Message feature(String mode, int i) {
        String id = "feature-" + mode + "-" + i;
        String body = "compressed".equals(mode) ? bigBody(id) : id;
        Message msg = new Message(topic, i % 2 == 0 ? "TagA" : "TagB", "key-" + mode + "-" + i + " alt-" + i,
            body.getBytes(StandardCharsets.UTF_8));
        msg.putUserProperty("mode", mode);
        msg.putUserProperty("seq", Integer.toString(i));
        msg.putUserProperty("unicode", "h\u00e9llo-\u4e16\u754c");
        msg.setFlag(i);
        return msg;
    }

    private Map<String, Object> sendFeatures(DefaultMQProducer producer) throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        Map<String, Integer> sync = new TreeMap<String, Integer>();
        Map<String, Integer> compressed = new TreeMap<String, Integer>();
        for (int i = 0; i < FEATURES_PER_MODE; i++) {
            Clients.increment(sync, producer.send(feature("sync", i)).getSendStatus().name());
            Clients.increment(compressed, producer.send(feature("compressed", i)).getSendStatus().name());
        }
        out.put("sync", sync);
        out.put("compressed", compressed);
        final Map<String, Integer> async = new TreeMap<String, Integer>();
        final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(FEATURES_PER_MODE);
        for (int i = 0; i < FEATURES_PER_MODE; i++) {
            producer.send(feature("async", i), new SendCallback() {
                public void onSuccess(SendResult r) {
                    Clients.increment(async, r.getSendStatus().name());
                    done.countDown();
                }

                public void onException(Throwable e) {
                    Clients.increment(async, "exception:" + e.getClass().getSimpleName());
                    done.countDown();
                }
            });
        }
        done.await(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS);
        out.put("async", async);
        for (int i = 0; i < FEATURES_PER_MODE; i++) {
            producer.sendOneway(feature("oneway", i));
        }
        List<Message> batch = new ArrayList<Message>();
        for (int i = 0; i < FEATURES_PER_MODE; i++) {
            batch.add(feature("batch", i));
        }
        SendResult batchResult = producer.send(batch);
        out.put("batch", batchResult.getSendStatus().name());
        out.put("batchMsgIds", batchResult.getMsgId().split(",").length);
        return out;
    }

    private Map<String, Integer> sendBulk(DefaultMQProducer producer) throws Exception {
        final Map<String, Integer> statuses = new TreeMap<String, Integer>();
        final Semaphore inflight = new Semaphore(256);
        int half = bulk / 2;
        for (int i = 0; i < half; i++) {
            inflight.acquire();
            Message msg = new Message(topic, "Bulk", ("bulk-" + i).getBytes(StandardCharsets.UTF_8));
            producer.send(msg, new SendCallback() {
                public void onSuccess(SendResult r) {
                    Clients.increment(statuses, "async:" + r.getSendStatus().name());
                    inflight.release();
                }

                public void onException(Throwable e) {
                    Clients.increment(statuses, "async:exception:" + e.getClass().getSimpleName());
                    inflight.release();
                }
            }, 30000);
        }
        inflight.acquire(256);
        inflight.release(256);
        for (int i = half; i < bulk; i += BATCH) {
            List<Message> batch = new ArrayList<Message>();
            for (int j = i; j < Math.min(bulk, i + BATCH); j++) {
                batch.add(new Message(topic, "Bulk", ("bulk-" + j).getBytes(StandardCharsets.UTF_8)));
            }
            Clients.increment(statuses, "batch:" + producer.send(batch).getSendStatus().name());
        }
        return statuses;
    }
}
