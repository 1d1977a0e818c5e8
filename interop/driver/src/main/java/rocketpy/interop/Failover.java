package rocketpy.interop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.impl.producer.TopicPublishInfo;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * The "failover" scenario (issue 10): two broker groups, each a SYNC_MASTER and a SLAVE. The pytest side kills
 * broker-a's master (kill -9) while this producer streams, and restarts it later; the two sides meet through files
 * in {@code --control DIR}:
 *
 * <ol>
 *   <li>once the topic is created on both masters and the consumer holds its 8 queues, this JVM writes
 *   {@code ready} and waits for {@code go} (pytest's word that both slaves copied the topic's config);</li>
 *   <li>this JVM writes {@code acked} (SEND_OK count so far) while it sends phase 1; pytest kills broker-a's master
 *   once it reaches its mark and then creates {@code killed};</li>
 *   <li>the producer sends {@code --after} more messages once it saw {@code killed} (broker-b alone can ack them),
 *   waits until the consumer got every acknowledged phase-1 message (broker-a's from its slave), writes
 *   {@code drained};</li>
 *   <li>pytest restarts the master, waits until it acks again and creates {@code restarted}; phase 2 sends
 *   {@code --phase2} messages once the producer's route has broker-a back, and the consumer must get them all;</li>
 *   <li>after a quiet period this JVM writes {@code quiet}; pytest reads broker-a's committed offsets (those the
 *   consumer committed to the slave while the master was dead must survive the master's return) and creates
 *   {@code checked}; then the clients shut down.</li>
 * </ol>
 *
 * <p>A send that throws or is not SEND_OK is sent again (same key, at most 5 times), as an application that wants
 * its message delivered does. Observed: the deterministic outcome (nothing acknowledged lost, who acked after the
 * kill, all received); counts (acked, received, duplicates before and after the master's return, resends) go
 * under "counts" for the report.
 */
final class Failover {
    private final String namesrv;
    private final String topic;
    private final String group;
    private final Path control;
    private final int after;
    private final int phase2;
    private final int maxPhase1;

    private final Map<String, String> ackedOn = new ConcurrentHashMap<String, String>();
    private final Map<String, AtomicInteger> received = new ConcurrentHashMap<String, AtomicInteger>();
    private final AtomicLong deliveries = new AtomicLong();
    private final AtomicLong lastDelivery = new AtomicLong();
    private final AtomicLong duplicatesBeforeRestart = new AtomicLong();
    private final AtomicLong duplicatesAfterRestart = new AtomicLong();
    private volatile boolean restarted;
    private int resends;
    private int unacked;

    Failover(Args args) {
        this.namesrv = args.get("namesrv");
        this.topic = args.get("topic", "InteropFailoverTopic");
        this.group = args.get("group", "interop_failover_group");
        this.control = Paths.get(args.get("control"));
        this.after = args.getInt("after", 300);
        this.phase2 = args.getInt("phase2", 100);
        this.maxPhase1 = args.getInt("max-phase1", 5000);
    }

    Map<String, Object> run() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        try {
            Clients.createTopic(admin, "DefaultCluster", topic, 4);
            waitForBrokersInRoute(admin, 2);
        } finally {
            admin.shutdown();
        }
        DefaultMQPushConsumer consumer = Clients.pushConsumer(namesrv, group, "interop-failover-consumer");
        consumer.setPollNameServerInterval(1000);
        // the offsets reach the broker (the slave while the master is dead) within 1 s of consumption
        consumer.setPersistConsumerOffsetInterval(1000);
        consumer.subscribe(topic, "*");
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
            for (MessageExt m : msgs) {
                if (received.computeIfAbsent(m.getKeys(), k -> new AtomicInteger()).incrementAndGet() > 1) {
                    (restarted ? duplicatesAfterRestart : duplicatesBeforeRestart).incrementAndGet();
                }
                deliveries.incrementAndGet();
                lastDelivery.set(System.currentTimeMillis());
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        DefaultMQProducer producer = new DefaultMQProducer("interop_failover_producer");
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName("interop-failover-producer");
        producer.setPollNameServerInterval(1000);
        producer.setSendMsgTimeout(10000);
        producer.start();
        try {
            if (!Clients.waitUntil(() -> Clients.held(consumer, topic).size() == 8, 60000)) {
                throw new IllegalStateException("the consumer never held the 8 queues: " + Clients.held(consumer, topic));
            }
            // the slaves learn the topic from SlaveSynchronize (every 10 s): pytest says when they have it
            publish("ready", "");
            if (!Clients.waitUntil(() -> Files.exists(control.resolve("go")), 60000)) {
                throw new IllegalStateException("no go from pytest");
            }
            // phase 1: stream until the master is killed, then `after` more
            int i = 0;
            int killedAt = -1;
            Set<String> ackedAfterKill = new TreeSet<String>();
            while (killedAt < 0 || i - killedAt < after) {
                if (killedAt < 0 && Files.exists(control.resolve("killed"))) {
                    killedAt = i;
                }
                if (i >= maxPhase1) {
                    throw new IllegalStateException("the master was not killed within " + maxPhase1 + " messages");
                }
                String broker = send(producer, "p1-" + i);
                if (killedAt >= 0 && broker != null) {
                    ackedAfterKill.add(broker);
                }
                i++;
                if (i % 10 == 0) {
                    publish("acked", Integer.toString(ackedOn.size()));
                }
            }
            int ackedBeforeKill = 0;
            for (int k = 0; k < killedAt; k++) {
                ackedBeforeKill += ackedOn.containsKey("p1-" + k) ? 1 : 0;
            }
            out.put("ackedBeforeKillPositive", ackedBeforeKill > 0);
            out.put("ackedAfterKillOn", ackedAfterKill);
            Set<String> phase1 = new TreeSet<String>(ackedOn.keySet());
            boolean drained = Clients.waitUntil(() -> received.keySet().containsAll(phase1), 60000);
            out.put("phase1ReceivedWhileMasterDown", drained);
            int phase1Received = received.size();
            publish("drained", Integer.toString(phase1Received));
            // phase 2: once broker-a's master is back and the producer routes to it again
            if (!Clients.waitUntil(() -> Files.exists(control.resolve("restarted")), 180000)) {
                throw new IllegalStateException("the master was not restarted");
            }
            restarted = true;
            out.put("routeBack", Clients.waitUntil(() -> publishesTo(producer, "broker-a"), 30000));
            Map<String, Integer> phase2On = new TreeMap<String, Integer>();
            for (int k = 0; k < phase2; k++) {
                String broker = send(producer, "p2-" + k);
                if (broker != null) {
                    Clients.increment(phase2On, broker);
                }
            }
            out.put("phase2AckedOn", phase2On.keySet());
            Set<String> all = new TreeSet<String>(ackedOn.keySet());
            boolean complete = Clients.waitUntil(() -> received.keySet().containsAll(all), 60000);
            // a quiet period, so that late redeliveries are counted as duplicates
            Clients.waitUntil(() -> System.currentTimeMillis() - lastDelivery.get() > 3000, 30000);
            // pytest reads broker-a's committed offsets (master and slave) while this consumer still runs
            publish("quiet", "");
            if (!Clients.waitUntil(() -> Files.exists(control.resolve("checked")), 60000)) {
                throw new IllegalStateException("pytest did not check the offsets");
            }
            int lost = 0;
            for (String key : all) {
                lost += received.containsKey(key) ? 0 : 1;
            }
            out.put("allReceived", complete);
            out.put("lost", lost);
            out.put("unacked", unacked);
            Map<String, Object> counts = new LinkedHashMap<String, Object>();
            counts.put("sentPhase1", i);
            counts.put("killedAt", killedAt);
            counts.put("ackedBeforeKill", ackedBeforeKill);
            counts.put("acked", all.size());
            counts.put("phase1ReceivedBeforeRestart", phase1Received);
            counts.put("phase2AckedOn", phase2On);
            counts.put("receivedKeys", received.size());
            counts.put("deliveries", deliveries.get());
            counts.put("duplicates", deliveries.get() - received.size());
            counts.put("duplicatesBeforeRestart", duplicatesBeforeRestart.get());
            counts.put("duplicatesAfterRestart", duplicatesAfterRestart.get());
            counts.put("resends", resends);
            out.put("counts", counts);
        } finally {
            producer.shutdown();
            consumer.shutdown();
        }
        return out;
    }

    /** Sends key `key` until SEND_OK (at most 5 tries); returns the broker that acked it, null if none did. */
    private String send(DefaultMQProducer producer, String key) throws InterruptedException {
        Message msg = new Message(topic, "TagF", key, key.getBytes(StandardCharsets.UTF_8));
        for (int attempt = 0; attempt < 5; attempt++) {
            if (attempt > 0) {
                resends++;
                Thread.sleep(200);
            }
            try {
                SendResult result = producer.send(msg);
                if (result.getSendStatus() == SendStatus.SEND_OK) {
                    String broker = result.getMessageQueue().getBrokerName();
                    ackedOn.put(key, broker);
                    return broker;
                }
                System.err.println("send " + key + ": " + result.getSendStatus());
            } catch (Exception e) {
                System.err.println("send " + key + ": " + e);
            }
        }
        unacked++;
        return null;
    }

    private boolean publishesTo(DefaultMQProducer producer, String brokerName) {
        TopicPublishInfo info = producer.getDefaultMQProducerImpl().getTopicPublishInfoTable().get(topic);
        if (info == null) {
            return false;
        }
        for (MessageQueue mq : info.getMessageQueueList()) {
            if (mq.getBrokerName().equals(brokerName)) {
                return true;
            }
        }
        return false;
    }

    private void waitForBrokersInRoute(DefaultMQAdminExt admin, int brokers) throws Exception {
        long deadline = System.currentTimeMillis() + 30000;
        while (true) {
            TopicRouteData route = admin.examineTopicRouteInfo(topic);
            if (route != null && route.getQueueDatas().size() >= brokers) {
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("route of " + topic + " lacks brokers: " + route);
            }
            Thread.sleep(200);
        }
    }

    /** Writes `name` in the control directory atomically (pytest polls it). */
    private void publish(String name, String value) throws IOException {
        Path tmp = control.resolve(name + ".tmp");
        Files.write(tmp, value.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, control.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
