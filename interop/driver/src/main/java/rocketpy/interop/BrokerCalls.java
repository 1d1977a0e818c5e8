package rocketpy.interop;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.rocketmq.client.impl.CommunicationMode;
import org.apache.rocketmq.client.impl.MQClientAPIImpl;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.topic.TopicValidator;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageClientIDSetter;
import org.apache.rocketmq.common.message.MessageDecoder;
import org.apache.rocketmq.common.protocol.header.SendMessageRequestHeader;
import org.apache.rocketmq.common.protocol.heartbeat.HeartbeatData;
import org.apache.rocketmq.common.protocol.heartbeat.ProducerData;

/**
 * The "broker-calls" scenario: a producer's own MQClientAPIImpl sends HEART_BEAT (34) and SEND_MESSAGE_V2 (310)
 * straight to {@code --broker}, an address that need not be the one the broker registered.
 *
 * <p>It exists for the golden-frame capture: a client normally reaches a broker at the address from the route, so a
 * recording proxy in front of a broker is only reachable this way. The frames are the ones the 4.9.8 client builds
 * for a normal send (same header class and the same calls DefaultMQProducerImpl.sendKernelImpl makes).
 */
final class BrokerCalls {
    private final String namesrv;
    private final String broker;
    private final String brokerName;
    private final String topic;

    BrokerCalls(Args args) {
        this.namesrv = args.get("namesrv");
        this.broker = args.get("broker");
        this.brokerName = args.get("broker-name", "broker-a");
        this.topic = args.get("topic", "InteropTopic");
    }

    Map<String, Object> run() throws Exception {
        String group = "interop_raw_producer";
        DefaultMQProducer producer = new DefaultMQProducer(group);
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName("interop-raw-" + System.nanoTime());
        producer.start();
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        try {
            MQClientAPIImpl api = producer.getDefaultMQProducerImpl().getMqClientFactory().getMQClientAPIImpl();
            HeartbeatData heartbeat = new HeartbeatData();
            heartbeat.setClientID(producer.buildMQClientId());
            ProducerData producerData = new ProducerData();
            producerData.setGroupName(group);
            heartbeat.getProducerDataSet().add(producerData);
            out.put("heartbeatVersion", api.sendHeartbeat(broker, heartbeat, 5000));

            Message msg = new Message(topic, "TagA", "golden-key", "golden-body".getBytes(StandardCharsets.UTF_8));
            MessageClientIDSetter.setUniqID(msg);
            SendResult result = api.sendMessage(broker, brokerName, msg, header(group, msg), 5000,
                CommunicationMode.SYNC, null, producer.getDefaultMQProducerImpl());
            out.put("sendStatus", result.getSendStatus().name());
        } finally {
            producer.shutdown();
        }
        return out;
    }

    private SendMessageRequestHeader header(String group, Message msg) {
        SendMessageRequestHeader h = new SendMessageRequestHeader();
        h.setProducerGroup(group);
        h.setTopic(topic);
        h.setDefaultTopic(TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC);
        h.setDefaultTopicQueueNums(4);
        h.setQueueId(0);
        h.setSysFlag(0);
        h.setBornTimestamp(System.currentTimeMillis());
        h.setFlag(msg.getFlag());
        h.setProperties(MessageDecoder.messageProperties2String(msg.getProperties()));
        h.setReconsumeTimes(0);
        h.setUnitMode(false);
        h.setBatch(false);
        h.setBname(brokerName);
        return h;
    }
}
