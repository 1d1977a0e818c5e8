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
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Transactional messages through TransactionMQProducer (issue 7).
 *
 * <p>"transactions": messages keyed by what their local transaction answers: commit-1/commit-2 COMMIT, rollback
 * ROLLBACK, check-commit / check-rollback UNKNOW then COMMIT / ROLLBACK on the broker's check-back, never UNKNOW on
 * every check (the broker discards it after transactionCheckMax checks to TRANS_CHECK_MAX_TIME_TOPIC). A push consumer
 * records what is delivered; the listener records every check-back. Waits poll; then a quiet period of
 * {@code --quiet-ms} shows that nothing more arrives. The delay from sending check-commit to its delivery is reported
 * under "timings" (not compared across targets).
 *
 * <p>"tx-store-write" sends stored-commit and stored-rollback with UNKNOW (the broker's transactionTimeOut keeps them
 * unchecked); the harness moves the store to the other broker; "tx-store-read" answers the check-backs (COMMIT,
 * ROLLBACK) and records what is delivered.
 */
final class Transactions {
    static final String TOPIC = "InteropTxTopic";
    static final String STORE_TOPIC = "InteropTxStoreTopic";
    private static final String[] KEYS = {"commit-1", "commit-2", "rollback", "check-commit", "check-rollback", "never"};
    private final String namesrv;
    private final int checkMax;
    private final int quietMs;
    private final int timeoutMs;
    private final Map<String, List<MessageExt>> checks = new ConcurrentHashMap<String, List<MessageExt>>();
    private final Map<String, List<MessageExt>> received = new ConcurrentHashMap<String, List<MessageExt>>();
    private final Map<String, Long> receivedAt = new ConcurrentHashMap<String, Long>();

    Transactions(Args args) {
        this.namesrv = args.get("namesrv");
        this.checkMax = args.getInt("check-max", 3);
        this.quietMs = args.getInt("quiet-ms", 3000);
        this.timeoutMs = args.getInt("timeout-ms", 60000);
    }

    private static LocalTransactionState local(String key) {
        if (key.startsWith("commit")) {
            return LocalTransactionState.COMMIT_MESSAGE;
        }
        return "rollback".equals(key) ? LocalTransactionState.ROLLBACK_MESSAGE : LocalTransactionState.UNKNOW;
    }

    private static LocalTransactionState onCheck(String key) {
        if (key.endsWith("commit")) {
            return LocalTransactionState.COMMIT_MESSAGE;
        }
        return key.endsWith("rollback") ? LocalTransactionState.ROLLBACK_MESSAGE : LocalTransactionState.UNKNOW;
    }

    private TransactionMQProducer producer(String group, boolean answerLocally) throws Exception {
        TransactionMQProducer producer = new TransactionMQProducer(group);
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName("tx-producer");
        producer.setSendMsgTimeout(15000);
        producer.setTransactionListener(new TransactionListener() {
            @Override
            public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
                return answerLocally ? local(msg.getKeys()) : LocalTransactionState.UNKNOW;
            }

            @Override
            public LocalTransactionState checkLocalTransaction(MessageExt msg) {
                checks.computeIfAbsent(msg.getKeys(), k -> Collections.synchronizedList(new ArrayList<MessageExt>()))
                    .add(msg);
                return onCheck(msg.getKeys());
            }
        });
        producer.start();
        return producer;
    }

    private DefaultMQPushConsumer consumer(String group, String topic) throws Exception {
        DefaultMQPushConsumer consumer = Clients.pushConsumer(namesrv, group, "tx-consumer");
        consumer.subscribe(topic, "*");
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
            for (MessageExt m : msgs) {
                received.computeIfAbsent(m.getKeys(), k -> Collections.synchronizedList(new ArrayList<MessageExt>()))
                    .add(m);
                receivedAt.putIfAbsent(m.getKeys(), System.currentTimeMillis());
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        return consumer;
    }

    private int checked(String key) {
        List<MessageExt> seen = checks.get(key);
        return seen == null ? 0 : seen.size();
    }

    /** A message as compared across targets: REAL_QID (the producer picks a random queue) and volatile ids masked. */
    private static Map<String, Object> describe(MessageExt m, boolean withCheckTimes) {
        Map<String, Object> one = Clients.describe(m);
        @SuppressWarnings("unchecked")
        Map<String, String> props = (Map<String, String>) one.get("properties");
        props.computeIfPresent(MessageConst.PROPERTY_REAL_QUEUE_ID, (k, v) -> "<queue>");
        if (!withCheckTimes) {
            props.computeIfPresent(MessageConst.PROPERTY_TRANSACTION_CHECK_TIMES, (k, v) -> "<count>");
            one.remove("storeSize");
        }
        one.remove("bornHost");
        one.put("transactionIdIsUniqKey", m.getProperty(MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX)
            .equals(m.getTransactionId()));
        return one;
    }

    private Map<String, Object> describeAll(Map<String, List<MessageExt>> table, boolean withCheckTimes) {
        Map<String, Object> out = new TreeMap<String, Object>();
        for (Map.Entry<String, List<MessageExt>> e : table.entrySet()) {
            List<Object> list = new ArrayList<Object>();
            synchronized (e.getValue()) {
                for (MessageExt m : e.getValue()) {
                    list.add(describe(m, withCheckTimes));
                }
            }
            out.put(e.getKey(), list);
        }
        return out;
    }

    private static Map<String, Object> sendResult(TransactionSendResult r) {
        Map<String, Object> one = new LinkedHashMap<String, Object>();
        one.put("sendStatus", r.getSendStatus().name());
        one.put("localTransactionState", r.getLocalTransactionState().name());
        one.put("transactionIdIsMsgId", r.getMsgId().equals(r.getTransactionId()));
        return one;
    }

    private static Object topicStats(DefaultMQAdminExt admin, String topic) {
        try {
            return BrokerAdmin.topicStats(admin.examineTopicStats(topic));
        } catch (Exception e) {
            return Errors.describe(e);
        }
    }

    private Map<String, Integer> checkCounts() {
        Map<String, Integer> out = new TreeMap<String, Integer>();
        for (String key : checks.keySet()) {
            out.put(key, checked(key));
        }
        return out;
    }

    Map<String, Object> run() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        DefaultMQPushConsumer consumer = null;
        TransactionMQProducer producer = null;
        try {
            Clients.createTopic(admin, "DefaultCluster", TOPIC, 4);
            consumer = consumer("interop_tx_consumer", TOPIC);
            producer = producer("interop_tx_producer", true);
            Map<String, Object> sends = new LinkedHashMap<String, Object>();
            long sentCheckCommit = 0;
            for (String key : KEYS) {
                Message msg = new Message(TOPIC, "TagTx", key, ("tx-" + key).getBytes(StandardCharsets.UTF_8));
                msg.putUserProperty("case", key);
                msg.setFlag(5);  // a half message written again by a check loses it (renewHalfMessageInner)
                if ("check-commit".equals(key)) {
                    sentCheckCommit = System.currentTimeMillis();
                }
                sends.put(key, sendResult(producer.sendMessageInTransaction(msg, null)));
            }
            out.put("sends", sends);
            boolean delivered = Clients.waitUntil(() -> received.keySet().containsAll(
                java.util.Arrays.asList("commit-1", "commit-2", "check-commit")), timeoutMs);
            boolean checkedOut = Clients.waitUntil(() -> checked("never") >= checkMax && checked("check-rollback") >= 1,
                timeoutMs);
            boolean discarded = Clients.waitUntil(() -> {
                Object stats = topicStats(admin, "TRANS_CHECK_MAX_TIME_TOPIC");
                return stats instanceof Map && String.valueOf(stats).contains("maxOffset=1");
            }, timeoutMs);
            out.put("resume", resume(admin));
            out.put("rejected", rejected(admin, producer));
            Thread.sleep(quietMs);  // nothing more may arrive: no redelivery, no further check of a discarded message
            Map<String, Object> waits = new TreeMap<String, Object>();
            waits.put("delivered", delivered);
            waits.put("checkedOut", checkedOut);
            waits.put("discarded", discarded);
            out.put("waits", waits);
            out.put("checkCounts", checkCounts());
            out.put("checks", describeAll(checks, true));
            out.put("received", describeAll(received, true));
            Map<String, Object> stats = new TreeMap<String, Object>();
            for (String topic : new String[] {"TRANS_CHECK_MAX_TIME_TOPIC", "RMQ_SYS_TRANS_HALF_TOPIC"}) {
                stats.put(topic, topicStats(admin, topic));
            }
            out.put("topicStats", stats);
            Map<String, Object> timings = new LinkedHashMap<String, Object>();
            Long at = receivedAt.get("check-commit");
            timings.put("checkCommitDeliveredAfterMs", at == null ? -1 : at - sentCheckCommit);
            out.put("timings", timings);
        } finally {
            if (producer != null) {
                producer.shutdown();
            }
            if (consumer != null) {
                consumer.shutdown();
            }
            admin.shutdown();
        }
        return out;
    }

    /**
     * RESUME_CHECK_HALF_MESSAGE (as mqadmin's API does it, by offset message id) of the discarded "never" message,
     * found by key in TRANS_CHECK_MAX_TIME_TOPIC: it is checked transactionCheckMax times more and discarded again.
     * Also a resume of an id that is no offset message id.
     */
    private Map<String, Object> resume(DefaultMQAdminExt admin) throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        String topic = "TRANS_CHECK_MAX_TIME_TOPIC";
        List<MessageExt> found = admin.queryMessage(topic, "never", 32, 0, Long.MAX_VALUE).getMessageList();
        out.put("foundByKey", found.size());
        if (found.size() != 1) {
            return out;
        }
        String offsetMsgId = ((org.apache.rocketmq.common.message.MessageClientExt) found.get(0)).getOffsetMsgId();
        out.put("resumed", admin.resumeCheckHalfMessage(offsetMsgId));
        out.put("checkedAgain", Clients.waitUntil(() -> checked("never") >= 2 * checkMax, timeoutMs));
        out.put("discardedAgain", Clients.waitUntil(
            () -> String.valueOf(topicStats(admin, topic)).contains("maxOffset=2"), timeoutMs));
        String addr = AdminSteps.waitForRoute(admin, TOPIC, timeoutMs).getBrokerDatas().get(0).selectBrokerAddr();
        org.apache.rocketmq.client.impl.MQClientAPIImpl api = new org.apache.rocketmq.client.impl.MQClientAPIImpl(
            new org.apache.rocketmq.remoting.netty.NettyClientConfig(), null, null,
            new org.apache.rocketmq.client.ClientConfig());
        api.start();
        try {
            out.put("resumeOfNoMessageId", api.resumeCheckHalfMessage(addr, "nonsense", 10000));
        } finally {
            api.shutdown();
        }
        return out;
    }

    /** UPDATE_BROKER_CONFIG rejectTransactionMessage=true, then a transactional send: refused by the broker. */
    private Map<String, Object> rejected(DefaultMQAdminExt admin, TransactionMQProducer producer) throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        String addr = AdminSteps.waitForRoute(admin, TOPIC, timeoutMs).getBrokerDatas().get(0).selectBrokerAddr();
        java.util.Properties props = new java.util.Properties();
        props.setProperty("rejectTransactionMessage", "true");
        admin.updateBrokerConfig(addr, props);
        Message msg = new Message(TOPIC, "TagTx", "refused", "tx-refused".getBytes(StandardCharsets.UTF_8));
        try {
            out.put("send", sendResult(producer.sendMessageInTransaction(msg, null)));
        } catch (Exception e) {
            Throwable root = e;  // the client wraps the broker's answer twice, with times in the outer messages
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            out.put("error", Errors.describe(root));
        }
        return out;
    }

    Map<String, Object> storeWrite() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        TransactionMQProducer producer = null;
        try {
            Clients.createTopic(admin, "DefaultCluster", STORE_TOPIC, 4);
            producer = producer("interop_tx_store_producer", false);
            Map<String, Object> sends = new LinkedHashMap<String, Object>();
            for (String key : new String[] {"stored-commit", "stored-rollback"}) {
                Message msg = new Message(STORE_TOPIC, "TagTx", key, ("tx-" + key).getBytes(StandardCharsets.UTF_8));
                sends.put(key, sendResult(producer.sendMessageInTransaction(msg, null)));
            }
            out.put("sends", sends);
            out.put("checkCounts", checkCounts());
        } finally {
            if (producer != null) {
                producer.shutdown();
            }
            admin.shutdown();
        }
        return out;
    }

    Map<String, Object> storeRead() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQPushConsumer consumer = consumer("interop_tx_store_consumer", STORE_TOPIC);
        TransactionMQProducer producer = producer("interop_tx_store_producer", false);
        try {
            boolean done = Clients.waitUntil(() -> received.containsKey("stored-commit")
                && checked("stored-rollback") >= 1, timeoutMs);
            Thread.sleep(quietMs);
            out.put("resolved", done);
            Map<String, Object> seen = new TreeMap<String, Object>();
            seen.put("stored-commit", checked("stored-commit") >= 1);
            seen.put("stored-rollback", checked("stored-rollback") >= 1);
            out.put("checked", seen);
            out.put("received", describeAll(received, false));
        } finally {
            producer.shutdown();
            consumer.shutdown();
        }
        return out;
    }
}
