package rocketpy.interop;

import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.JSONArray;
import com.alibaba.fastjson.JSONObject;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageClientExt;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Store directory compatibility (issue 3). "store-write": {@code --count} messages with keys, tags and properties
 * (some over the compression threshold) go to 4 queues, and group interop_store_group's offsets are set to 1..4 on
 * queues 0..3; every message's queue, queue offset and offset message id is written to {@code --manifest}. The
 * harness then stops the broker cleanly and opens the same storePathRootDir with the other broker.
 * "store-read": every message of the manifest is read back by queue offset (lite pull, assign + seek), by offset
 * message id (viewMessage, as queryMsgById) and by key (queryMessage, as queryMsgByKey), and the group's offsets
 * are read back; the observations are the mismatches found (none expected) and the offsets.
 */
final class StoreCompat {
    static final String TOPIC = "InteropStoreTopic";
    static final String GROUP = "interop_store_group";
    private final String namesrv;
    private final File manifest;
    private final int count;
    private final int timeoutMs;

    StoreCompat(Args args) {
        this.namesrv = args.get("namesrv");
        this.manifest = new File(args.get("manifest"));
        this.count = args.getInt("count", 60);
        this.timeoutMs = args.getInt("timeout-ms", 60000);
    }

    private static String body(int i) {
        String small = "store-" + i;
        return i % 10 == 7 ? SendReceive.bigBody(small) : small;
    }

    Map<String, Object> write() throws Exception {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        DefaultMQProducer producer = Clients.producer(namesrv, "interop_store_producer", "store-producer");
        List<Object> entries = new ArrayList<Object>();
        Map<String, Integer> statuses = new TreeMap<String, Integer>();
        try {
            Clients.createTopic(admin, "DefaultCluster", TOPIC, 4);
            for (int i = 0; i < count; i++) {
                Message msg = new Message(TOPIC, i % 2 == 0 ? "TagA" : "TagB", "skey-" + i + " sgroup-" + (i % 5),
                    body(i).getBytes(StandardCharsets.UTF_8));
                msg.putUserProperty("seq", Integer.toString(i));
                msg.putUserProperty("colour", i % 3 == 0 ? "red" : "blue");
                SendResult r = producer.send(msg, (mqs, m, arg) -> mqs.get((Integer) arg % mqs.size()), i);
                Clients.increment(statuses, r.getSendStatus().name());
                Map<String, Object> e = new LinkedHashMap<String, Object>();
                e.put("i", i);
                e.put("queueId", r.getMessageQueue().getQueueId());
                e.put("queueOffset", r.getQueueOffset());
                e.put("offsetMsgId", r.getOffsetMsgId());
                e.put("msgId", r.getMsgId());
                entries.add(e);
            }
            out.put("sends", statuses);
            // UPDATE_CONSUMER_OFFSET (synchronous, through the admin API): a committing consumer would race its own
            // pull tasks, which persist their start offsets too.
            String addr = AdminSteps.waitForRoute(admin, TOPIC, timeoutMs).getBrokerDatas().get(0).selectBrokerAddr();
            for (int q = 0; q < 4; q++) {
                admin.updateConsumeOffset(addr, GROUP, new MessageQueue(TOPIC, "broker-a", q), q + 1);
            }
            out.put("consumerOffsets", queryOffsets(admin));
        } finally {
            producer.shutdown();
            admin.shutdown();
        }
        Files.write(manifest.toPath(), JSON.toJSONString(entries).getBytes(StandardCharsets.UTF_8));
        return out;
    }

    Map<String, Object> read() throws Exception {
        JSONArray entries = JSON.parseArray(new String(Files.readAllBytes(manifest.toPath()), StandardCharsets.UTF_8));
        Map<String, JSONObject> byPosition = new HashMap<String, JSONObject>();
        for (int k = 0; k < entries.size(); k++) {
            JSONObject e = entries.getJSONObject(k);
            byPosition.put(e.getIntValue("queueId") + "/" + e.getLongValue("queueOffset"), e);
        }
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        DefaultMQAdminExt admin = Clients.admin(namesrv);
        try {
            out.put("route", AdminSteps.waitForRoute(admin, TOPIC, timeoutMs));
            out.put("topicStats", BrokerAdmin.topicStats(admin.examineTopicStats(TOPIC)));
            out.put("byQueueOffset", byQueueOffset(byPosition));
            out.put("byOffsetMsgId", byOffsetMsgId(admin, entries));
            out.put("byKey", byKey(admin, entries));
            out.put("consumerOffsets", queryOffsets(admin));
            out.put("resume", resume());
        } finally {
            admin.shutdown();
        }
        return out;
    }

    /**
     * QUERY_CONSUMER_OFFSET of interop_store_group on every queue, as a resuming consumer asks it (GET_CONSUME_STATS
     * needs the group's retry topic, which only exists once a consumer of the group sent a heartbeat).
     */
    private Map<String, Object> queryOffsets(DefaultMQAdminExt admin) throws Exception {
        String addr = AdminSteps.waitForRoute(admin, TOPIC, timeoutMs).getBrokerDatas().get(0).selectBrokerAddr();
        Map<String, Object> out = new TreeMap<String, Object>();
        org.apache.rocketmq.client.impl.MQClientAPIImpl api = new org.apache.rocketmq.client.impl.MQClientAPIImpl(
            new org.apache.rocketmq.remoting.netty.NettyClientConfig(), null, null,
            new org.apache.rocketmq.client.ClientConfig());
        api.start();
        for (int q = 0; q < 4; q++) {
            org.apache.rocketmq.common.protocol.header.QueryConsumerOffsetRequestHeader h =
                new org.apache.rocketmq.common.protocol.header.QueryConsumerOffsetRequestHeader();
            h.setConsumerGroup(GROUP);
            h.setTopic(TOPIC);
            h.setQueueId(q);
            try {
                out.put("q" + q, api.queryConsumerOffset(addr, h, 10000));
            } catch (Exception e) {
                out.put("q" + q, Errors.describe(e));
            }
        }
        api.shutdown();
        return out;
    }

    /** Mismatches between a served message and manifest entry `e` (empty list = identical). */
    private static List<String> check(MessageExt m, JSONObject e) {
        int i = e.getIntValue("i");
        List<String> bad = new ArrayList<String>();
        if (!body(i).equals(Clients.body(m))) {
            bad.add("body");
        }
        if (!("skey-" + i + " sgroup-" + (i % 5)).equals(m.getKeys())) {
            bad.add("keys=" + m.getKeys());
        }
        if (!(i % 2 == 0 ? "TagA" : "TagB").equals(m.getTags())) {
            bad.add("tags=" + m.getTags());
        }
        if (!Integer.toString(i).equals(m.getUserProperty("seq"))
            || !(i % 3 == 0 ? "red" : "blue").equals(m.getUserProperty("colour"))) {
            bad.add("properties=" + m.getProperties());
        }
        if (!e.getString("msgId").equals(m.getProperty("UNIQ_KEY"))) {
            bad.add("uniqKey");
        }
        if (m.getQueueId() != e.getIntValue("queueId") || m.getQueueOffset() != e.getLongValue("queueOffset")) {
            bad.add("position=" + m.getQueueId() + "/" + m.getQueueOffset());
        }
        return bad;
    }

    private Map<String, Object> byQueueOffset(Map<String, JSONObject> byPosition) throws Exception {
        DefaultLitePullConsumer c = new DefaultLitePullConsumer("interop_store_reader");
        c.setNamesrvAddr(namesrv);
        c.setInstanceName("store-reader");
        c.setAutoCommit(false);
        c.setPollTimeoutMillis(500);
        c.start();
        Map<String, Object> mismatches = new TreeMap<String, Object>();
        int served = 0;
        Map<String, Long> offsetMsgIdOk = new TreeMap<String, Long>();
        try {
            List<MessageQueue> mqs = new ArrayList<MessageQueue>(c.fetchMessageQueues(TOPIC));
            c.assign(mqs);
            for (MessageQueue mq : mqs) {
                c.seek(mq, 0);
            }
            long deadline = System.currentTimeMillis() + timeoutMs;
            java.util.Set<String> seen = new java.util.HashSet<String>();
            while (seen.size() < byPosition.size() && System.currentTimeMillis() < deadline) {
                for (MessageExt m : c.poll()) {
                    String pos = m.getQueueId() + "/" + m.getQueueOffset();
                    served++;
                    seen.add(pos);
                    JSONObject e = byPosition.get(pos);
                    List<String> bad = e == null ? java.util.Collections.singletonList("not in manifest") : check(m, e);
                    if (e != null && !e.getString("offsetMsgId").equals(((MessageClientExt) m).getOffsetMsgId())) {
                        bad = new ArrayList<String>(bad);
                        bad.add("offsetMsgId");
                    }
                    if (!bad.isEmpty()) {
                        mismatches.put(pos, bad);
                    }
                }
            }
            for (String pos : byPosition.keySet()) {
                if (!seen.contains(pos)) {
                    mismatches.put(pos, "never served");
                }
            }
        } finally {
            c.shutdown();
        }
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("served", served);
        out.put("mismatches", mismatches);
        return out;
    }

    private static Map<String, Object> byOffsetMsgId(DefaultMQAdminExt admin, JSONArray entries) {
        Map<String, Object> mismatches = new TreeMap<String, Object>();
        for (int k = 0; k < entries.size(); k++) {
            JSONObject e = entries.getJSONObject(k);
            try {
                List<String> bad = check(admin.viewMessage(e.getString("offsetMsgId")), e);
                if (!bad.isEmpty()) {
                    mismatches.put("i" + e.getIntValue("i"), bad);
                }
            } catch (Exception ex) {
                mismatches.put("i" + e.getIntValue("i"), Errors.describe(ex));
            }
        }
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("looked", entries.size());
        out.put("mismatches", mismatches);
        return out;
    }

    private static Map<String, Object> byKey(DefaultMQAdminExt admin, JSONArray entries) {
        Map<String, Object> mismatches = new TreeMap<String, Object>();
        for (int k = 0; k < entries.size(); k++) {
            JSONObject e = entries.getJSONObject(k);
            int i = e.getIntValue("i");
            try {
                QueryResult q = admin.queryMessage(TOPIC, "skey-" + i, 32, 0, Long.MAX_VALUE);
                List<MessageExt> found = q.getMessageList();
                if (found.size() != 1) {
                    mismatches.put("i" + i, "found " + found.size());
                } else if (!check(found.get(0), e).isEmpty()) {
                    mismatches.put("i" + i, check(found.get(0), e));
                }
            } catch (Exception ex) {
                mismatches.put("i" + i, Errors.describe(ex));
            }
        }
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("looked", entries.size());
        out.put("mismatches", mismatches);
        try {
            QueryResult group = admin.queryMessage(TOPIC, "sgroup-2", 64, 0, Long.MAX_VALUE);
            List<String> bodies = new ArrayList<String>();
            for (MessageExt m : group.getMessageList()) {
                bodies.add(Clients.body(m).length() > 40 ? "<big>" : Clients.body(m));
            }
            out.put("secondKeyBodies", Clients.sortedList(bodies));
        } catch (Exception ex) {
            out.put("secondKeyBodies", Errors.describe(ex));
        }
        return out;
    }

    /** A consumer of the committed group resumes: the first message it gets on each queue is at the commit. */
    private Map<String, Object> resume() throws Exception {
        DefaultLitePullConsumer c = new DefaultLitePullConsumer(GROUP);
        c.setNamesrvAddr(namesrv);
        c.setInstanceName("store-resumer");
        c.setAutoCommit(false);
        c.setPollTimeoutMillis(500);
        c.subscribe(TOPIC, "*");
        c.start();
        Map<String, Object> first = new TreeMap<String, Object>();
        try {
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (first.size() < 4 && System.currentTimeMillis() < deadline) {
                for (MessageExt m : c.poll()) {
                    String q = "q" + m.getQueueId();
                    if (!first.containsKey(q)) {
                        first.put(q, m.getQueueOffset());
                    }
                }
            }
        } finally {
            c.shutdown();
        }
        return first;
    }
}
