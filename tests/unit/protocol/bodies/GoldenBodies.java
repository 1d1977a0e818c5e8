// Prints fastjson 1.2.69 encodings of RocketMQ 4.9.8 bodies, one "name base64" per line, for golden_bodies.py.
// Run (see golden_bodies.py for the classpath): java -cp CLASSPATH GoldenBodies.java
import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.serializer.SerializerFeature;
import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.common.DataVersion;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.UtilAll;
import org.apache.rocketmq.common.admin.ConsumeStats;
import org.apache.rocketmq.common.admin.OffsetWrapper;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.body.*;
import org.apache.rocketmq.common.protocol.route.*;

public class GoldenBodies {
    static void out(String name, byte[] data) {
        System.out.println(name + " " + Base64.getEncoder().encodeToString(data));
    }

    static void out(String name, String text) {
        out(name, text.getBytes(StandardCharsets.UTF_8));
    }

    public static void main(String[] args) throws Exception {
        DataVersion dv = new DataVersion();
        dv.setTimestamp(1700000000123L);
        dv.setCounter(new AtomicLong(42));
        out("data_version", dv.encode());

        TopicConfig tc = new TopicConfig("TopicTest", 8, 4, 6);
        tc.setTopicSysFlag(2);
        tc.setOrder(true);
        TopicConfigSerializeWrapper wrapper = new TopicConfigSerializeWrapper();
        wrapper.getTopicConfigTable().put("TopicTest", tc);
        wrapper.setDataVersion(dv);
        out("topic_config_wrapper", wrapper.encode());

        RegisterBrokerBody rbb = new RegisterBrokerBody();
        rbb.setTopicConfigSerializeWrapper(wrapper);
        byte[] plain = rbb.encode(false);
        out("register_body_plain", plain);
        out("register_body_plain_crc", Integer.toString(UtilAll.crc32(plain)));
        byte[] compressed = rbb.encode(true);
        out("register_body_compressed", compressed);
        out("register_body_compressed_crc", Integer.toString(UtilAll.crc32(compressed)));

        QueueData qd = new QueueData();
        qd.setBrokerName("broker-a");
        qd.setReadQueueNums(4);
        qd.setWriteQueueNums(4);
        qd.setPerm(6);
        qd.setTopicSysFlag(0);
        HashMap<Long, String> addrs = new HashMap<>();
        addrs.put(0L, "10.0.0.1:10911");
        addrs.put(1L, "10.0.0.2:10911");
        BrokerData bd = new BrokerData("DefaultCluster", "broker-a", addrs);
        TopicRouteData route = new TopicRouteData();
        route.setQueueDatas(new ArrayList<>(Collections.singletonList(qd)));
        route.setBrokerDatas(new ArrayList<>(Collections.singletonList(bd)));
        route.setFilterServerTable(new HashMap<>());
        out("route_plain", route.encode());
        out("route_standard", route.encode(SerializerFeature.BrowserCompatible, SerializerFeature.QuoteFieldNames,
            SerializerFeature.SkipTransientField, SerializerFeature.MapSortField));
        route.setOrderTopicConf("broker-a:4");
        out("route_plain_order", route.encode());

        ClusterInfo ci = new ClusterInfo();
        HashMap<String, BrokerData> bat = new HashMap<>();
        bat.put("broker-a", bd);
        ci.setBrokerAddrTable(bat);
        HashMap<String, Set<String>> cat = new HashMap<>();
        cat.put("DefaultCluster", new HashSet<>(Collections.singletonList("broker-a")));
        ci.setClusterAddrTable(cat);
        out("cluster_info", ci.encode());

        TopicList tl = new TopicList();
        tl.getTopicList().add("TopicTest");
        out("topic_list", tl.encode());
        tl.setBrokerAddr("10.0.0.1:10911");
        out("topic_list_addr", tl.encode());

        KVTable kv = new KVTable();
        kv.getTable().put("TopicTest", "broker-a:4");
        out("kv_table", kv.encode());

        ConsumeStats cs = new ConsumeStats();
        OffsetWrapper ow = new OffsetWrapper();
        ow.setBrokerOffset(10);
        ow.setConsumerOffset(8);
        ow.setLastTimestamp(1700000000000L);
        cs.getOffsetTable().put(new MessageQueue("T", "broker-a", 0), ow);
        cs.setConsumeTps(1.0E-4);
        out("consume_stats", cs.encode());

        Map<String, Object> text = new LinkedHashMap<>();
        text.put("s", "a\"\\/\u0001\n\t\u00e9\u2028\u007f");
        out("string_default", JSON.toJSONString(text));
        out("string_browser", JSON.toJSONString(text, SerializerFeature.BrowserCompatible));
        double[] doubles = {0.0, 1.0, 1.0E-4, 0.001, 1.0E7, 123456789.0, 3.14, 9999999.0};
        out("doubles", JSON.toJSONString(doubles));
    }
}
