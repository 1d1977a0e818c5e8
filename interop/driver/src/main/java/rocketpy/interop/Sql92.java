package rocketpy.interop;

import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.JSONObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.store.OffsetStore;
import org.apache.rocketmq.client.consumer.store.ReadOffsetType;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.route.QueueData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * "sql92": SQL92 message filtering as push consumers observe it (issue 7).
 *
 * <p>The spec file (--spec) holds {"messages": [{"tags", "properties"}...], "good": [expr...], "bad": [expr...]}.
 * The messages go to queue (index % 2) of a new 2-queue topic; then one push consumer per good expression (own
 * group, one shared client instance, so one heartbeat carries them all) consumes from the first offset until its
 * in-memory offsets reach the queues' max offsets (filtered messages advance them too), and the bodies each got
 * are recorded (a consumer whose start() fails is recorded under startErrors). Each bad expression gets its own consumer, whose start() must fail in CHECK_CLIENT_CONFIG: the
 * exception (class, response code, remark) is recorded. Bodies are "m" + the message index, zero-padded.
 */
final class Sql92 {
    private final String namesrv;
    private final String topic;
    private final String spec;
    private final int timeoutMs;

    Sql92(Args args) {
        this.namesrv = args.get("namesrv");
        this.topic = args.get("topic");
        this.spec = args.get("spec");
        this.timeoutMs = args.getInt("timeout-ms", 60000);
    }

    Map<String, Object> run() throws Exception {
        JSONObject plan = JSON.parseObject(new String(Files.readAllBytes(Paths.get(spec)), StandardCharsets.UTF_8));
        List<String> good = plan.getJSONArray("good").toJavaList(String.class);
        List<String> bad = plan.getJSONArray("bad").toJavaList(String.class);
        List<JSONObject> messages = plan.getJSONArray("messages").toJavaList(JSONObject.class);
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        try {
            Clients.createTopic(admin, "DefaultCluster", topic, 2);
            out.put("sends", send(messages));
            out.put("refused", refused(bad));
            out.put("delivered", delivered(admin, good));
        } finally {
            admin.shutdown();
        }
        return out;
    }

    private Map<String, Integer> send(List<JSONObject> messages) throws Exception {
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_sql_producer", "sql-producer");
        Map<String, Integer> statuses = new TreeMap<String, Integer>();
        try {
            for (int i = 0; i < messages.size(); i++) {
                JSONObject spec = messages.get(i);
                Message msg = new Message(topic, spec.getString("tags"), body(i).getBytes(StandardCharsets.UTF_8));
                JSONObject props = spec.getJSONObject("properties");
                for (String key : props.keySet()) {
                    msg.putUserProperty(key, props.getString(key));
                }
                SendResult result = producer.send(msg, (mqs, m, arg) -> mqs.get((Integer) arg % mqs.size()), i);
                Clients.increment(statuses, result.getSendStatus().name());
            }
        } finally {
            producer.shutdown();
        }
        return statuses;
    }

    private static String body(int i) {
        return String.format("m%02d", i);
    }

    private Map<String, Object> refused(List<String> bad) {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        for (int i = 0; i < bad.size(); i++) {
            DefaultMQPushConsumer c = Clients.pushConsumer(namesrv, "interop_sql_bad_" + i, "sql-bad-" + i);
            try {
                c.subscribe(topic, MessageSelector.bySql(bad.get(i)));
                c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) ->
                    ConsumeConcurrentlyStatus.CONSUME_SUCCESS);
                c.start();
                out.put(bad.get(i), "started");
            } catch (MQClientException e) {
                out.put(bad.get(i), Errors.describe(e));
            } finally {
                c.shutdown();
            }
        }
        return out;
    }

    private Map<String, Object> delivered(DefaultMQAdminExt admin, List<String> good) throws Exception {
        final Map<MessageQueue, Long> max = new LinkedHashMap<MessageQueue, Long>();
        for (QueueData qd : admin.examineTopicRouteInfo(topic).getQueueDatas()) {
            for (int q = 0; q < qd.getReadQueueNums(); q++) {
                MessageQueue mq = new MessageQueue(topic, qd.getBrokerName(), q);
                max.put(mq, admin.maxOffset(mq));
            }
        }
        final Map<String, TreeSet<String>> got = new ConcurrentHashMap<String, TreeSet<String>>();
        final AtomicInteger duplicates = new AtomicInteger();
        final List<DefaultMQPushConsumer> consumers = new ArrayList<DefaultMQPushConsumer>();
        Map<String, Object> startErrors = new LinkedHashMap<String, Object>();
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        try {
            for (int i = 0; i < good.size(); i++) {
                final String expr = good.get(i);
                final TreeSet<String> bodies = new TreeSet<String>();
                got.put(expr, bodies);
                DefaultMQPushConsumer c = Clients.pushConsumer(namesrv, "interop_sql_good_" + i, "sql-good");
                c.setConsumeThreadMin(1);
                c.setConsumeThreadMax(1);
                c.subscribe(topic, MessageSelector.bySql(expr));
                c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                    synchronized (bodies) {
                        for (MessageExt m : msgs) {
                            if (!bodies.add(Clients.body(m))) {
                                duplicates.incrementAndGet();
                            }
                        }
                    }
                    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
                });
                try {
                    c.start();
                    consumers.add(c);
                } catch (MQClientException e) {
                    startErrors.put(expr, Errors.describe(e));
                    c.shutdown();
                }
            }
            out.put("complete", Clients.waitUntil(() -> {
                for (DefaultMQPushConsumer c : consumers) {
                    OffsetStore store = c.getDefaultMQPushConsumerImpl().getOffsetStore();
                    for (Map.Entry<MessageQueue, Long> e : max.entrySet()) {
                        if (store.readOffset(e.getKey(), ReadOffsetType.READ_FROM_MEMORY) < e.getValue()) {
                            return false;
                        }
                    }
                }
                return true;
            }, timeoutMs));
        } finally {
            for (DefaultMQPushConsumer c : consumers) {
                c.shutdown();
            }
        }
        Map<String, Object> byExpression = new LinkedHashMap<String, Object>();
        for (String expr : good) {
            synchronized (got.get(expr)) {
                byExpression.put(expr, new ArrayList<String>(got.get(expr)));
            }
        }
        out.put("startErrors", startErrors);
        out.put("duplicates", duplicates.get());
        out.put("byExpression", byExpression);
        return out;
    }
}
