package rocketpy.interop;

import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.JSONArray;
import com.alibaba.fastjson.JSONObject;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.protocol.body.ClusterInfo;
import org.apache.rocketmq.common.protocol.route.BrokerData;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * The "admin" scenario family: a list of steps (mqadmin sub-commands and DefaultMQAdminExt calls) read from the JSON
 * file given by {@code --steps}, run in order against {@code --namesrv}, one JSON observation per step.
 *
 * <p>A step is {"op": name, ...arguments}. A step that throws records {"error": {...}} and the next step still runs:
 * refusals are observations too.
 */
final class AdminSteps {
    private final String namesrv;
    private final JSONArray steps;

    AdminSteps(Args args) throws Exception {
        this.namesrv = args.get("namesrv");
        byte[] raw = Files.readAllBytes(new File(args.get("steps")).toPath());
        this.steps = JSON.parseArray(new String(raw, StandardCharsets.UTF_8));
    }

    List<Object> run() throws Exception {
        System.setProperty(MixAll.NAMESRV_ADDR_PROPERTY, namesrv);
        DefaultMQAdminExt admin = new DefaultMQAdminExt(15000);
        admin.setNamesrvAddr(namesrv);
        admin.setInstanceName("interop-admin-" + System.nanoTime());
        admin.start();
        List<Object> results = new ArrayList<Object>();
        try {
            for (int i = 0; i < steps.size(); i++) {
                JSONObject step = steps.getJSONObject(i);
                Map<String, Object> observed = new LinkedHashMap<String, Object>();
                observed.put("op", step.getString("op"));
                try {
                    observed.put("result", runStep(admin, step));
                } catch (Exception e) {
                    e.printStackTrace(System.err);
                    observed.put("error", Errors.describe(e));
                }
                results.add(observed);
            }
        } finally {
            admin.shutdown();
        }
        return results;
    }

    private Object runStep(DefaultMQAdminExt admin, JSONObject s) throws Exception {
        String op = s.getString("op");
        switch (op) {
            case "mqadmin":
                return Mqadmin.run(s.getJSONArray("args").toJavaList(String.class));
            case "getKVConfig":
                return admin.getKVConfig(s.getString("namespace"), s.getString("key"));
            case "getKVListByNamespace":
                return new TreeMap<String, String>(admin.getKVListByNamespace(s.getString("namespace")).getTable());
            case "createAndUpdateKvConfig":
                admin.createAndUpdateKvConfig(s.getString("namespace"), s.getString("key"), s.getString("value"));
                return null;
            case "deleteKvConfig":
                admin.deleteKvConfig(s.getString("namespace"), s.getString("key"));
                return null;
            case "getNameServerConfig":
                return nameServerConfig(admin);
            case "updateNameServerConfig":
                return updateNameServerConfig(admin, s);
            case "examineTopicRouteInfo":
                return admin.examineTopicRouteInfo(s.getString("topic"));
            case "examineBrokerClusterInfo":
                return admin.examineBrokerClusterInfo();
            case "fetchAllTopicList":
                return sorted(admin.fetchAllTopicList().getTopicList());
            case "fetchTopicsByCluster":
                return sorted(admin.fetchTopicsByCLuster(s.getString("cluster")).getTopicList());
            case "wipeWritePermOfBroker":
                return admin.wipeWritePermOfBroker(namesrv, s.getString("brokerName"));
            case "addWritePermOfBroker":
                return admin.addWritePermOfBroker(namesrv, s.getString("brokerName"));
            case "deleteTopicInNameServer":
                admin.deleteTopicInNameServer(Collections.singleton(namesrv), s.getString("topic"),
                    s.getString("cluster"));
                return null;
            case "createTopicOnBrokers":
                return createTopicOnBrokers(admin, s);
            case "waitForBrokerRuntimeInfo":
                return waitForBrokerRuntimeInfo(admin, s.getIntValue("timeoutMs"));
            case "waitForBrokerIds":
                return waitForBrokerIds(admin, s.getString("brokerName"),
                    new HashSet<Long>(s.getJSONArray("ids").toJavaList(Long.class)), s.getIntValue("timeoutMs"));
            case "waitForRoute":
                return waitForRoute(admin, s.getString("topic"), s.getIntValue("timeoutMs"));
            default:
                throw new IllegalArgumentException("unknown admin op: " + op);
        }
    }

    private Map<String, Object> nameServerConfig(DefaultMQAdminExt admin) throws Exception {
        Map<String, Object> out = new TreeMap<String, Object>();
        for (Map.Entry<String, Properties> e : admin.getNameServerConfig(
            Collections.singletonList(namesrv)).entrySet()) {
            Map<String, String> props = new TreeMap<String, String>();
            for (String name : e.getValue().stringPropertyNames()) {
                props.put(name, e.getValue().getProperty(name));
            }
            out.put(e.getKey(), props);
        }
        return out;
    }

    private Object updateNameServerConfig(DefaultMQAdminExt admin, JSONObject s) throws Exception {
        Properties props = new Properties();
        props.setProperty(s.getString("key"), s.getString("value"));
        admin.updateNameServerConfig(props, Collections.singletonList(namesrv));
        return null;
    }

    /** Creates the topic on every master of the cluster (as mqadmin updateTopic -c does) and returns their names. */
    private List<String> createTopicOnBrokers(DefaultMQAdminExt admin, JSONObject s) throws Exception {
        ClusterInfo info = admin.examineBrokerClusterInfo();
        Set<String> brokerNames = info.getClusterAddrTable().get(s.getString("cluster"));
        if (brokerNames == null) {
            throw new IllegalStateException("cluster not known to the NameServer: " + s.getString("cluster"));
        }
        TopicConfig config = new TopicConfig(s.getString("topic"), s.getIntValue("queues"),
            s.getIntValue("queues"), s.containsKey("perm") ? s.getIntValue("perm") : 6);
        List<String> created = new ArrayList<String>();
        for (String brokerName : sorted(brokerNames)) {
            BrokerData data = info.getBrokerAddrTable().get(brokerName);
            admin.createAndUpdateTopicConfig(data.getBrokerAddrs().get(MixAll.MASTER_ID), config);
            created.add(brokerName);
        }
        return created;
    }

    /**
     * Polls GET_BROKER_RUNTIME_INFO on every registered broker until it answers. A 4.9.7 broker answers SYSTEM_ERROR
     * (NoSuchElementException from an empty stats list, StoreStatsService) until its first stats sampling, so an
     * mqadmin clusterList right after boot would fail for reasons unrelated to the NameServer under test.
     */
    private static int waitForBrokerRuntimeInfo(DefaultMQAdminExt admin, int timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + (timeoutMs > 0 ? timeoutMs : 15000);
        int polls = 0;
        for (BrokerData data : admin.examineBrokerClusterInfo().getBrokerAddrTable().values()) {
            for (String addr : data.getBrokerAddrs().values()) {
                while (true) {
                    polls++;
                    try {
                        admin.fetchBrokerRuntimeStats(addr);
                        break;
                    } catch (Exception e) {
                        if (System.currentTimeMillis() > deadline) {
                            throw e;
                        }
                        Thread.sleep(200);
                    }
                }
            }
        }
        return polls > 0 ? 1 : 0;
    }

    /**
     * Polls GET_BROKER_CLUSTER_INFO until the broker name's registered ids are exactly {@code ids} (empty: the name
     * is gone). Registration and expiry are asynchronous (a broker registers on start, the NameServer drops it
     * when its channel closes or on UNREGISTER_BROKER), so the observation is taken once they have happened.
     */
    private static ClusterInfo waitForBrokerIds(DefaultMQAdminExt admin, String brokerName, Set<Long> ids,
        int timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + (timeoutMs > 0 ? timeoutMs : 15000);
        while (true) {
            ClusterInfo info = admin.examineBrokerClusterInfo();
            BrokerData data = info.getBrokerAddrTable().get(brokerName);
            Set<Long> seen = data == null ? new HashSet<Long>() : new HashSet<Long>(data.getBrokerAddrs().keySet());
            if (seen.equals(ids)) {
                return info;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("broker " + brokerName + " has ids " + seen + ", wanted " + ids);
            }
            Thread.sleep(100);
        }
    }

    /** Polls the NameServer until the topic has queue data; the broker registers new topics asynchronously. */
    static TopicRouteData waitForRoute(DefaultMQAdminExt admin, String topic, int timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + (timeoutMs > 0 ? timeoutMs : 15000);
        while (true) {
            try {
                TopicRouteData route = admin.examineTopicRouteInfo(topic);
                if (route != null && !route.getQueueDatas().isEmpty()) {
                    return route;
                }
            } catch (Exception e) {
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("no route for " + topic + " within " + timeoutMs + " ms");
            }
            Thread.sleep(100);
        }
    }

    static List<String> sorted(Set<String> values) {
        List<String> out = new ArrayList<String>(new HashSet<String>(values));
        Collections.sort(out);
        return out;
    }
}
