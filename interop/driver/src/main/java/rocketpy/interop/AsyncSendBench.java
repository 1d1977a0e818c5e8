package rocketpy.interop;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;

/**
 * Async-send load for tools/bench_raw.py --phase async (issue 12): the official benchmark Producer has no async mode.
 *
 * <p>{@code java -cp <driver cp> rocketpy.interop.AsyncSendBench --namesrv H:P --topic T --inflight K --seconds S
 * --size B}: one DefaultMQProducer keeps K {@code send(msg, callback)} calls in flight for S seconds and prints
 * {@code progress <ok> <failed> <monotonic ns>} once a second on stdout, then {@code done <ok> <failed>}; the Python
 * side samples the servers' CPU time at those lines. Client logs go to stderr.
 */
public final class AsyncSendBench {
    private AsyncSendBench() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = Args.parse(argv, 0);
        String namesrv = args.get("namesrv");
        String topic = args.get("topic");
        int inflight = args.getInt("inflight", 256);
        int seconds = args.getInt("seconds", 20);
        byte[] body = new byte[args.getInt("size", 128)];

        DefaultMQProducer producer = new DefaultMQProducer("BenchAsyncGroup");
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName("bench-async-" + System.nanoTime());
        producer.setSendMsgTimeout(10000);
        producer.start();
        final Semaphore slots = new Semaphore(inflight);
        final AtomicLong ok = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        SendCallback callback = new SendCallback() {
            @Override
            public void onSuccess(SendResult result) {
                if (result.getSendStatus() == SendStatus.SEND_OK) {
                    ok.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                }
                slots.release();
            }

            @Override
            public void onException(Throwable e) {
                failed.incrementAndGet();
                slots.release();
            }
        };
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        long nextReport = start + 1_000_000_000L;
        while (true) {
            long now = System.nanoTime();
            if (now >= nextReport) {
                System.out.println("progress " + ok.get() + " " + failed.get() + " " + now);
                System.out.flush();
                nextReport += 1_000_000_000L;
            }
            if (now >= end) {
                break;
            }
            if (!slots.tryAcquire(10, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                continue;
            }
            try {
                producer.send(new Message(topic, "TagA", body), callback);
            } catch (Exception e) {
                failed.incrementAndGet();
                slots.release();
            }
        }
        slots.tryAcquire(inflight, 15, java.util.concurrent.TimeUnit.SECONDS);
        System.out.println("done " + ok.get() + " " + failed.get());
        System.out.flush();
        producer.shutdown();
        System.exit(0);
    }
}
