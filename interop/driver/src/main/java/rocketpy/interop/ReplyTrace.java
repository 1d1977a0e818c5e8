package rocketpy.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.RequestCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.trace.TraceView;
import org.apache.rocketmq.client.utils.MessageUtil;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.route.QueueData;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.apache.rocketmq.common.topic.TopicValidator;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * "request-reply": DefaultMQProducer.request, sync and with a RequestCallback, answered by a push consumer with
 * MessageUtil.createReplyMessage + send (SEND_REPLY_MESSAGE_V2, then PUSH_REPLY_MESSAGE_TO_CLIENT to the
 * requester); a compressed reply; a request nobody answers (client-side timeout); and a reply whose requester has
 * shut down. "trace": a producer and a push consumer with enableMsgTrace, then the trace rows found by message id
 * (the admin API's TraceView list and {@code mqadmin queryMsgTraceById}).
 */
final class ReplyTrace {
    private static final String[] REPLY_VOLATILE = {MessageConst.PROPERTY_CORRELATION_ID,
        MessageConst.PROPERTY_PUSH_REPLY_TIME, MessageConst.PROPERTY_REPLY_MESSAGE_ARRIVE_TIME};
    private final String namesrv;
    private final String cluster;
    private final int count;
    private final String prefix;
    private final String requestTopic;

    ReplyTrace(Args args) {
        this.namesrv = args.get("namesrv");
        this.cluster = args.get("cluster", "DefaultCluster");
        this.count = args.getInt("count", 3);
        this.prefix = args.get("prefix", "reply");
        this.requestTopic = "Interop_" + prefix + "_RequestTopic";
    }

    // -- request-reply -------------------------------------------------------------------------------------------

    Map<String, Object> requestReply() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        final String replyTopic = MixAll.getReplyTopic(cluster);
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        final DefaultMQProducer replier = Clients.producer(namesrv, prefix + "_reply_producer", prefix + "-replier");
        DefaultMQPushConsumer consumer = Clients.pushConsumer(namesrv, prefix + "_reply_consumer", prefix + "-consumer");
        DefaultMQProducer requester = Clients.producer(namesrv, prefix + "_request_producer", prefix + "-requester");
        final BlockingQueue<MessageExt> held = new LinkedBlockingQueue<MessageExt>();
        final Map<String, Object> seen = Collections.synchronizedMap(new TreeMap<String, Object>());
        final Map<String, Object> replierSends = Collections.synchronizedMap(new TreeMap<String, Object>());
        try {
            List<Map<String, Object>> replyRoute = route(admin, replyTopic);
            out.put("replyTopicRoute", replyRoute);
            MessageQueue replyQueue = new MessageQueue(replyTopic, replyRoute.get(0).get("brokerName").toString(), 0);
            long storedBefore = admin.maxOffset(replyQueue);
            Clients.createTopic(admin, cluster, requestTopic, 1);
            consumer.subscribe(requestTopic, "*");
            consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    String body = Clients.body(m);
                    seen.put(body, requestSeen(m));
                    if (body.startsWith("hold")) {
                        held.add(m);
                    } else if (!body.startsWith("ignore")) {
                        replierSends.put(body, reply(replier, m, body));
                    }
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            consumer.start();

            List<Object> sync = new ArrayList<Object>();
            for (int i = 0; i < count; i++) {
                sync.add(describeReply((MessageExt) requester.request(request("sync-" + i), 15000)));
            }
            out.put("sync", sync);
            sync = new ArrayList<Object>();
            sync.add(describeReply((MessageExt) requester.request(request("big-0"), 15000)));
            out.put("compressed", sync);

            final Map<String, Object> async = Collections.synchronizedMap(new TreeMap<String, Object>());
            final CountDownLatch done = new CountDownLatch(count);
            for (int i = 0; i < count; i++) {
                final String name = "async-" + i;
                requester.request(request(name), new RequestCallback() {
                    @Override
                    public void onSuccess(Message message) {
                        async.put(name, describeReply((MessageExt) message));
                        done.countDown();
                    }

                    @Override
                    public void onException(Throwable e) {
                        async.put(name, Errors.describe(e));
                        done.countDown();
                    }
                }, 15000);
            }
            out.put("asyncAllCalledBack", done.await(30, TimeUnit.SECONDS));
            out.put("async", new TreeMap<String, Object>(async));

            try {
                requester.request(request("ignore-0"), 2000);
                out.put("unanswered", "a reply came");
            } catch (Exception e) {
                out.put("unanswered", Errors.describe(e));
            }

            DefaultMQProducer gone = Clients.producer(namesrv, prefix + "_gone_producer", prefix + "-gone");
            gone.request(request("hold-0"), new RequestCallback() {
                @Override
                public void onSuccess(Message message) {
                }

                @Override
                public void onException(Throwable e) {
                }
            }, 30000);
            MessageExt late = held.poll(30, TimeUnit.SECONDS);
            gone.shutdown();
            if (late == null) {
                throw new IllegalStateException("the held request never reached the consumer");
            }
            out.put("requesterGone", reply(replier, late, "hold-0"));
            out.put("replierSends", new TreeMap<String, Object>(replierSends));
            out.put("requestsSeenByConsumer", new TreeMap<String, Object>(seen));
            // Every reply the broker took is stored (storeReplyMessageEnable), including the three failed tries.
            out.put("repliesStored", admin.maxOffset(replyQueue) - storedBefore);
        } finally {
            requester.shutdown();
            consumer.shutdown();
            replier.shutdown();
            admin.shutdown();
        }
        return out;
    }

    private Message request(String body) {
        Message msg = new Message(requestTopic, "TagRequest", "key-" + body, body.getBytes(StandardCharsets.UTF_8));
        msg.putUserProperty("requestProp", "r-" + body);
        return msg;
    }

    private static Object reply(DefaultMQProducer replier, MessageExt request, String body) {
        try {
            byte[] data = body.startsWith("big") ? big(body) : ("reply to " + body).getBytes(StandardCharsets.UTF_8);
            Message reply = MessageUtil.createReplyMessage(request, data);
            reply.putUserProperty("replyProp", "p-" + body);
            reply.setFlag(7);
            SendResult result = replier.send(reply, 15000);
            Map<String, Object> one = new LinkedHashMap<String, Object>();
            one.put("sendStatus", result.getSendStatus().name());
            one.put("queueId", result.getMessageQueue().getQueueId());
            one.put("topic", result.getMessageQueue().getTopic());
            return one;
        } catch (Exception e) {
            return Errors.describe(e);
        }
    }

    private static byte[] big(String body) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 6000) {
            sb.append(body).append(" is a large reply; ");
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, Object> requestSeen(MessageExt m) {
        Map<String, Object> one = new LinkedHashMap<String, Object>();
        one.put("topic", m.getTopic());
        Map<String, String> props = Clients.properties(m);
        for (String key : REPLY_VOLATILE) {
            if (props.containsKey(key)) {
                props.put(key, "<volatile>");
            }
        }
        one.put("properties", props);
        return one;
    }

    /** The reply as the requester got it (ClientRemotingProcessor.receiveReplyMessage). */
    private static Map<String, Object> describeReply(MessageExt m) {
        Map<String, Object> one = new LinkedHashMap<String, Object>();
        one.put("topic", m.getTopic());
        String body = Clients.body(m);
        one.put("body", body.length() > 64 ? body.substring(0, 64) + "..." : body);
        one.put("bodyLength", m.getBody().length);
        one.put("flag", m.getFlag());
        one.put("queueId", m.getQueueId());
        one.put("reconsumeTimes", m.getReconsumeTimes());
        one.put("bornHost", String.valueOf(m.getBornHost()));
        one.put("storeHost", String.valueOf(m.getStoreHost()));
        one.putAll(requestSeen(m));
        return one;
    }

    private static List<Map<String, Object>> route(DefaultMQAdminExt admin, String topic) throws Exception {
        TopicRouteData data = admin.examineTopicRouteInfo(topic);
        List<Map<String, Object>> out = new ArrayList<Map<String, Object>>();
        for (QueueData q : data.getQueueDatas()) {
            Map<String, Object> one = new LinkedHashMap<String, Object>();
            one.put("brokerName", q.getBrokerName());
            one.put("readQueueNums", q.getReadQueueNums());
            one.put("writeQueueNums", q.getWriteQueueNums());
            one.put("perm", q.getPerm());
            one.put("topicSysFlag", q.getTopicSysFlag());
            out.add(one);
        }
        return out;
    }

    // -- trace ---------------------------------------------------------------------------------------------------

    Map<String, Object> trace(String topic, String traceTopic, String prefix) throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        String queried = traceTopic == null ? TopicValidator.RMQ_SYS_TRACE_TOPIC : traceTopic;
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        DefaultMQProducer producer = new DefaultMQProducer(prefix + "_trace_producer", true, traceTopic);
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName(prefix + "-trace-producer");
        producer.setSendMsgTimeout(15000);
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(prefix + "_trace_consumer", true, traceTopic);
        consumer.setNamesrvAddr(namesrv);
        consumer.setInstanceName(prefix + "-trace-consumer");
        consumer.setConsumeFromWhere(org.apache.rocketmq.common.consumer.ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        final Map<String, Integer> consumed = new TreeMap<String, Integer>();
        try {
            Clients.createTopic(admin, cluster, topic, 1);
            producer.start();
            consumer.subscribe(topic, "*");
            consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    Clients.increment(consumed, Clients.body(m));
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            consumer.start();
            List<String> ids = new ArrayList<String>();
            List<String> statuses = new ArrayList<String>();
            for (int i = 0; i < count; i++) {
                Message msg = new Message(topic, "TagTrace", prefix + "-key-" + i,
                    (prefix + "-" + i).getBytes(StandardCharsets.UTF_8));
                SendResult result = producer.send(msg);
                ids.add(result.getMsgId());
                statuses.add(result.getSendStatus().name());
            }
            out.put("sendStatuses", statuses);
            out.put("allConsumed", Clients.waitUntil(() -> {
                synchronized (consumed) {
                    return consumed.size() == count;
                }
            }, 60000));
            out.put("consumed", new TreeMap<String, Integer>(consumed));

            Map<String, Object> views = new LinkedHashMap<String, Object>();
            Map<String, Object> mqadmin = new LinkedHashMap<String, Object>();
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                views.put("msg-" + i, traceViews(admin, queried, id));
                List<String> argv = new ArrayList<String>(Arrays.asList("queryMsgTraceById", "-n", namesrv,
                    "-i", id));
                if (traceTopic != null) {
                    argv.add("-t");
                    argv.add(traceTopic);
                }
                Map<String, Object> run = Mqadmin.run(argv);
                run.put("argv", Arrays.asList("queryMsgTraceById", "-i", "msg-" + i));
                mqadmin.put("msg-" + i, run);
            }
            out.put("traceViews", views);
            out.put("queryMsgTraceById", mqadmin);
            out.put("traceTopicRoute", route(admin, queried));
        } finally {
            consumer.shutdown();
            producer.shutdown();
            admin.shutdown();
        }
        return out;
    }

    /** Polls the trace topic by message id until the Pub, SubBefore and SubAfter rows are all there. */
    private static List<Map<String, Object>> traceViews(DefaultMQAdminExt admin, String traceTopic, String msgId)
        throws Exception {
        long deadline = System.currentTimeMillis() + 30000;
        List<Map<String, Object>> rows = new ArrayList<Map<String, Object>>();
        while (true) {
            rows.clear();
            try {
                QueryResult result = admin.queryMessage(traceTopic, msgId, 64, 0, System.currentTimeMillis());
                for (MessageExt m : result.getMessageList()) {
                    for (TraceView view : TraceView.decodeFromTraceTransData(msgId, m)) {
                        rows.add(describeView(view, m));
                    }
                }
            } catch (Exception e) {
                rows.add(Errors.describe(e));
            }
            Collections.sort(rows, (a, b) -> String.valueOf(a).compareTo(String.valueOf(b)));
            if (rows.size() >= 3 && !rows.get(0).containsKey("class")
                || System.currentTimeMillis() > deadline) {
                return rows;
            }
            Thread.sleep(200);
        }
    }

    private static Map<String, Object> describeView(TraceView view, MessageExt traceMessage) {
        Map<String, Object> one = new TreeMap<String, Object>();
        one.put("msgType", view.getMsgType());
        one.put("groupName", view.getGroupName());
        one.put("status", view.getStatus());
        one.put("topic", view.getTopic());
        one.put("tags", view.getTags());
        one.put("keys", view.getKeys());
        one.put("storeHost", view.getStoreHost());
        one.put("clientHost", view.getClientHost());
        one.put("costTimeNonNegative", view.getCostTime() >= 0);
        one.put("traceMessageTopic", traceMessage.getTopic());
        one.put("traceMessageStoreHost", String.valueOf(traceMessage.getStoreHost()));
        return one;
    }
}
