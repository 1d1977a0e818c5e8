package rocketpy.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.rocketmq.client.ClientConfig;
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
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * The "tls-clients" scenario: one client configuration (the JVM's -Dtls.* system properties, read by
 * TlsSystemConfig) used by the admin API, mqadmin, a producer (VIP channel, so the broker's fast port is used too)
 * and a push consumer.
 *
 * <p>Each step records {"ok": ...} with what it got, or {"error": ...} with the exception chain. A step whose
 * predecessor failed is recorded as skipped, so that a refused client costs only the admin and producer timeouts.
 */
final class TlsClients {
    private final String namesrv;
    private final String cluster;
    private final String topic;
    private final int count;
    private final boolean create;
    private final int timeoutMs;

    TlsClients(Args args) {
        this.namesrv = args.get("namesrv");
        this.cluster = args.get("cluster", "DefaultCluster");
        this.topic = args.get("topic", "TlsTopic");
        this.count = args.getInt("count", 4);
        this.create = Boolean.parseBoolean(args.get("create", "true"));
        this.timeoutMs = args.getInt("timeout-ms", 30000);
    }

    Map<String, Object> run() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("useTLS", new ClientConfig().isUseTLS());
        Map<String, Object> admin = admin();
        out.put("admin", admin);
        if (admin.containsKey("ok")) {
            out.put("mqadmin", Mqadmin.run(Arrays.asList("topicRoute", "-n", namesrv, "-t", topic)));
        }
        Map<String, Object> produce = produce();
        out.put("produce", produce);
        out.put("consume", produce.containsKey("ok") ? consume() : skipped());
        return out;
    }

    private static Map<String, Object> skipped() {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("skipped", true);
        return out;
    }

    private static Map<String, Object> error(Throwable e) {
        e.printStackTrace(System.err);
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("error", Errors.describe(e));
        return out;
    }

    private static Map<String, Object> ok(Object value) {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("ok", value);
        return out;
    }

    /** Cluster info through the admin API, then (when asked) the topic created on every master. */
    private Map<String, Object> admin() {
        DefaultMQAdminExt admin = new DefaultMQAdminExt(5000);
        admin.setNamesrvAddr(namesrv);
        admin.setInstanceName("interop-tls-admin-" + System.nanoTime());
        try {
            admin.start();
            ClusterInfo info = admin.examineBrokerClusterInfo();
            Map<String, Object> seen = new LinkedHashMap<String, Object>();
            Map<String, Object> clusters = new TreeMap<String, Object>();
            for (Map.Entry<String, java.util.Set<String>> e : info.getClusterAddrTable().entrySet()) {
                clusters.put(e.getKey(), AdminSteps.sorted(e.getValue()));
            }
            seen.put("clusters", clusters);
            if (create) {
                TopicConfig config = new TopicConfig(topic, 2, 2, 6);
                for (String brokerName : AdminSteps.sorted(info.getClusterAddrTable().get(cluster))) {
                    admin.createAndUpdateTopicConfig(
                        info.getBrokerAddrTable().get(brokerName).getBrokerAddrs().get(MixAll.MASTER_ID), config);
                }
                seen.put("route", AdminSteps.waitForRoute(admin, topic, timeoutMs).getQueueDatas());
            }
            return ok(seen);
        } catch (Throwable e) {
            return error(e);
        } finally {
            admin.shutdown();
        }
    }

    private Map<String, Object> produce() {
        DefaultMQProducer producer = new DefaultMQProducer("interop_tls_producer");
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName("interop-tls-producer-" + System.nanoTime());
        producer.setVipChannelEnabled(true);
        producer.setSendMsgTimeout(5000);
        producer.setRetryTimesWhenSendFailed(0);
        try {
            producer.start();
            List<String> statuses = new ArrayList<String>();
            for (int i = 0; i < count; i++) {
                Message msg = new Message(topic, "TagA", "key-" + i, ("tls-" + i).getBytes(StandardCharsets.UTF_8));
                SendResult result = producer.send(msg);
                statuses.add(result.getSendStatus().name());
            }
            return ok(statuses);
        } catch (Throwable e) {
            return error(e);
        } finally {
            producer.shutdown();
        }
    }

    /** A fresh group from the first offset: every body sent to the topic so far, sorted. */
    private Map<String, Object> consume() {
        final ConcurrentLinkedQueue<String> received = new ConcurrentLinkedQueue<String>();
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer("interop_tls_consumer_" + System.nanoTime());
        consumer.setNamesrvAddr(namesrv);
        consumer.setInstanceName("interop-tls-consumer-" + System.nanoTime());
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        try {
            consumer.subscribe(topic, "*");
            consumer.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
                for (MessageExt m : msgs) {
                    received.add(new String(m.getBody(), StandardCharsets.UTF_8));
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            consumer.start();
            Clients.waitUntil(() -> received.size() >= count, timeoutMs);
            List<String> bodies = new ArrayList<String>(received);
            Collections.sort(bodies);
            return ok(bodies);
        } catch (Throwable e) {
            return error(e);
        } finally {
            consumer.shutdown();
        }
    }
}
