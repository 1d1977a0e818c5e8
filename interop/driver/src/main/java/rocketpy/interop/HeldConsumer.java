package rocketpy.interop;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.admin.OffsetWrapper;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * "held-consumer": a push consumer kept online while other processes (mqadmin, rocketpy admin) look at it or move
 * its offsets. It consumes {@code --topic} from the first offset (the topic may be created after it started: it
 * looks for the route every second, and rebalances every second with -Drocketmq.client.rebalance.waitInterval=1000)
 * until the broker has its offsets at {@code --count} and lists it and its producer group (same client instance,
 * heartbeats every second), then writes {@code --ready-file} with its client id and keeps
 * consuming, rewriting {@code --count-file} with the number of messages received so far, until
 * {@code --stop-file} exists (or {@code --timeout-ms} passed).
 */
final class HeldConsumer {
    static final String PRODUCER_GROUP = "interop_admin_held_producer";

    private final String namesrv;
    private final String group;
    private final String topic;
    private final int count;
    private final File readyFile;
    private final File countFile;
    private final File stopFile;
    private final int timeoutMs;

    HeldConsumer(Args args) {
        this.namesrv = args.get("namesrv");
        this.group = args.get("group");
        this.topic = args.get("topic");
        this.count = args.getInt("count", 40);
        this.readyFile = new File(args.get("ready-file"));
        this.countFile = new File(args.get("count-file"));
        this.stopFile = new File(args.get("stop-file"));
        this.timeoutMs = args.getInt("timeout-ms", 600000);
    }

    Map<String, Object> run() throws Exception {
        final AtomicInteger received = new AtomicInteger();
        DefaultMQPushConsumer c = Clients.pushConsumer(namesrv, group, "held-consumer");
        c.setPersistConsumerOffsetInterval(500);
        c.setPollNameServerInterval(1000);
        c.setHeartbeatBrokerInterval(1000);
        c.subscribe(topic, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            received.addAndGet(msgs.size());
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        c.start();
        // A producer group in the same client instance (so, in its heartbeats), for mqadmin producer.
        DefaultMQProducer producer = new DefaultMQProducer(PRODUCER_GROUP);
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName("held-consumer");
        producer.start();
        try {
            // The topic may not exist yet (the harness starts this JVM while it sends): wait for the group's offsets.
            boolean caughtUp = Clients.waitUntil(() -> committed(admin) == count && registered(admin), timeoutMs);
            out.put("caughtUp", caughtUp);
            out.put("receivedBeforeReady", received.get());
            write(readyFile, c.getDefaultMQPushConsumerImpl().getmQClientFactory().getClientId());
            long deadline = System.currentTimeMillis() + timeoutMs;
            int written = -1;
            while (!stopFile.exists() && System.currentTimeMillis() < deadline) {
                int now = received.get();
                if (now != written) {
                    write(countFile, Integer.toString(now));
                    written = now;
                }
                Thread.sleep(100);
            }
            out.put("stopped", stopFile.exists());
            out.put("received", received.get());
        } finally {
            producer.shutdown();
            c.shutdown();
            admin.shutdown();
        }
        return out;
    }

    /** The sum of the group's committed offsets on the topic (-1 while the broker has none). */
    private long committed(DefaultMQAdminExt admin) {
        try {
            long sum = 0;
            for (Map.Entry<MessageQueue, OffsetWrapper> e : admin.examineConsumeStats(group).getOffsetTable()
                .entrySet()) {
                if (topic.equals(e.getKey().getTopic())) {
                    sum += e.getValue().getConsumerOffset();
                }
            }
            return sum;
        } catch (Exception e) {
            return -1;
        }
    }

    /** Whether the broker lists the consumer and the producer (their heartbeat has arrived). */
    private boolean registered(DefaultMQAdminExt admin) {
        try {
            return !admin.examineConsumerConnectionInfo(group).getConnectionSet().isEmpty()
                && !admin.examineProducerConnectionInfo(PRODUCER_GROUP, topic).getConnectionSet().isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    /** Written to a temporary file and moved, so that a reader never sees half of it. */
    private static void write(File file, String text) throws Exception {
        File tmp = new File(file.getPath() + ".tmp");
        Files.write(tmp.toPath(), text.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
