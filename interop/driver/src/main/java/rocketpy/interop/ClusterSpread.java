package rocketpy.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.protocol.route.QueueData;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * "cluster-spread": a topic created on every master of DefaultCluster (as `mqadmin updateTopic -c` does), then a
 * producer with the default queue selection and a push consumer. Observes the route (broker names and queue
 * counts) and how many messages each broker took and delivered: a cluster of two brokers shares the load.
 */
final class ClusterSpread {
    private final String namesrv;
    private final String topic;
    private final int count;
    private final int timeoutMs;

    ClusterSpread(Args args) {
        this.namesrv = args.get("namesrv");
        this.topic = args.get("topic");
        this.count = args.getInt("count", 80);
        this.timeoutMs = args.getInt("timeout-ms", 90000);
    }

    Map<String, Object> run() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        try {
            Clients.createTopic(admin, "DefaultCluster", topic, 4);
            TopicRouteData route = admin.examineTopicRouteInfo(topic);
            List<String> queues = new ArrayList<String>();
            for (QueueData q : route.getQueueDatas()) {
                queues.add(q.getBrokerName() + " r" + q.getReadQueueNums() + " w" + q.getWriteQueueNums());
            }
            Collections.sort(queues);
            out.put("route", queues);
        } finally {
            admin.shutdown();
        }
        Map<String, Integer> statuses = new TreeMap<String, Integer>();
        Map<String, Integer> sentTo = new TreeMap<String, Integer>();
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_spread_producer", "spread-producer");
        try {
            for (int i = 0; i < count; i++) {
                SendResult r = producer.send(new Message(topic, "TagA", ("spread-" + i).getBytes(StandardCharsets.UTF_8)));
                Clients.increment(statuses, r.getSendStatus().name());
                Clients.increment(sentTo, r.getMessageQueue().getBrokerName());
            }
        } finally {
            producer.shutdown();
        }
        out.put("sendStatuses", statuses);
        out.put("sentPerBroker", sentTo);
        final Map<String, Integer> bodies = new ConcurrentHashMap<String, Integer>();
        final Map<String, Integer> fromBroker = new ConcurrentHashMap<String, Integer>();
        DefaultMQPushConsumer c = Clients.pushConsumer(namesrv, "interop_spread_consumer", "spread-consumer");
        c.subscribe(topic, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                Clients.increment(bodies, Clients.body(m));
                Clients.increment(fromBroker, ctx.getMessageQueue().getBrokerName());
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        boolean all = Clients.waitUntil(() -> bodies.size() >= count, timeoutMs);
        Thread.sleep(500);
        c.shutdown();
        int duplicates = 0;
        for (int n : bodies.values()) {
            duplicates += n - 1;
        }
        out.put("complete", all);
        out.put("received", bodies.size());
        out.put("duplicates", duplicates);
        out.put("receivedPerBroker", new TreeMap<String, Integer>(fromBroker));
        return out;
    }
}
