// Prints what RocketMQ 4.9.8's own classes produce for the broker data plane, one "name base64" per line,
// for golden_data_plane.py. Run (classpath as in golden_data_plane.py): java -cp "$CP" GoldenDataPlane.java
import java.nio.charset.StandardCharsets;
import java.util.*;
import org.apache.rocketmq.common.admin.ConsumeStats;
import org.apache.rocketmq.common.admin.OffsetWrapper;
import org.apache.rocketmq.common.admin.TopicOffset;
import org.apache.rocketmq.common.admin.TopicStatsTable;
import org.apache.rocketmq.common.message.*;
import org.apache.rocketmq.common.protocol.topic.OffsetMovedEvent;

public class GoldenDataPlane {
    static void out(String name, byte[] data) {
        System.out.println(name + " " + Base64.getEncoder().encodeToString(data));
    }

    static void out(String name, String text) {
        out(name, text.getBytes(StandardCharsets.UTF_8));
    }

    // A producer's message: new Message(topic, tags, keys, body) + the UNIQ_KEY the client adds at send time.
    static Message clientMessage(String tags, String keys, String uniq, String body) {
        Message msg = new Message("TopicTest", tags, keys, body.getBytes(StandardCharsets.UTF_8));
        MessageAccessor.putProperty(msg, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX, uniq);
        return msg;
    }

    // SendMessageProcessor.asyncSendMessage: parse, CLUSTER, WAIT left out of the stored string.
    static String storedProperties(String clientProps, boolean delayed) {
        Map<String, String> origProps = MessageDecoder.string2messageProperties(clientProps);
        MessageExt msgInner = new MessageExt();  // the broker uses MessageExtBrokerInner: same property map
        msgInner.setTopic("TopicTest");
        msgInner.setQueueId(1);
        MessageAccessor.setProperties(msgInner, origProps);
        MessageAccessor.putProperty(msgInner, MessageConst.PROPERTY_CLUSTER, "DefaultCluster");
        String wait = origProps.remove(MessageConst.PROPERTY_WAIT_STORE_MSG_OK);
        String stored = MessageDecoder.messageProperties2String(msgInner.getProperties());
        origProps.put(MessageConst.PROPERTY_WAIT_STORE_MSG_OK, wait);
        if (delayed) {  // CommitLog.asyncPutMessage's delay branch
            MessageAccessor.putProperty(msgInner, MessageConst.PROPERTY_REAL_TOPIC, msgInner.getTopic());
            MessageAccessor.putProperty(msgInner, MessageConst.PROPERTY_REAL_QUEUE_ID, String.valueOf(msgInner.getQueueId()));
            stored = MessageDecoder.messageProperties2String(msgInner.getProperties());
        }
        return stored;
    }

    public static void main(String[] args) throws Exception {
        Message plain = clientMessage("TagA", "KEY1 KEY2", "7F0000010B6418B4AAC27A3E6B2C0000", "Hello RocketMQ");
        String clientProps = MessageDecoder.messageProperties2String(plain.getProperties());
        out("client_properties", clientProps);
        out("stored_properties", storedProperties(clientProps, false));

        Message delayed = clientMessage("TagD", null, "7F0000010B6418B4AAC27A3E6B2C0001", "later");
        delayed.setDelayTimeLevel(3);
        String delayedProps = MessageDecoder.messageProperties2String(delayed.getProperties());
        out("client_properties_delayed", delayedProps);
        out("stored_properties_delayed", storedProperties(delayedProps, true));

        List<Message> batch = new ArrayList<>();
        batch.add(clientMessage("TagA", "B1", "7F0000010B6418B4AAC27A3E6B2C0010", "batch-0"));
        batch.add(clientMessage(null, null, "7F0000010B6418B4AAC27A3E6B2C0011", "batch-1"));
        batch.get(1).setFlag(7);
        out("batch_body", MessageDecoder.encodeMessages(batch));
        MessageBatch mb = MessageBatch.generateFromList(batch);
        out("batch_header_properties", MessageDecoder.messageProperties2String(mb.getProperties()));
        Map<String, String> batchProps = MessageDecoder.string2messageProperties(
            MessageDecoder.messageProperties2String(mb.getProperties()));
        batchProps.put(MessageConst.PROPERTY_CLUSTER, "DefaultCluster");
        out("batch_stored_suffix", MessageDecoder.messageProperties2String(batchProps));

        TopicStatsTable stats = new TopicStatsTable();
        for (int i = 0; i < 8; i++) {
            TopicOffset to = new TopicOffset();
            to.setMinOffset(i);
            to.setMaxOffset(10 + i);
            to.setLastUpdateTimestamp(i == 0 ? 0 : 1700000000000L + i);
            stats.getOffsetTable().put(new MessageQueue("TopicTest", "broker-a", i), to);
        }
        out("topic_stats", stats.encode());

        ConsumeStats cs = new ConsumeStats();
        for (String topic : new String[] {"TopicTest", "%RETRY%please_rename_unique_group_name_4"}) {
            for (int i = 0; i < 4; i++) {
                OffsetWrapper w = new OffsetWrapper();
                w.setBrokerOffset(100 + i);
                w.setConsumerOffset(90 + i);
                w.setLastTimestamp(topic.startsWith("%") ? 0 : 1700000000000L + i);
                cs.getOffsetTable().put(new MessageQueue(topic, "broker-a", i), w);
            }
        }
        cs.setConsumeTps(0.5);
        out("consume_stats", cs.encode());

        OffsetMovedEvent event = new OffsetMovedEvent();
        event.setConsumerGroup("G1");
        event.setMessageQueue(new MessageQueue("TopicTest", "broker-a", 2));
        event.setOffsetRequest(50);
        event.setOffsetNew(12);
        out("offset_moved_event", event.encode());
        MessageExt moved = new MessageExt();  // generateOffsetMovedEvent's MessageExtBrokerInner
        moved.setTags("G1");
        moved.setDelayTimeLevel(0);
        moved.setKeys("G1");
        out("offset_moved_properties", MessageDecoder.messageProperties2String(moved.getProperties()));
    }
}
