package rocketpy.interop;

import java.util.Arrays;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * --size B [--warmup W]}: one DefaultMQProducer keeps K {@code send(msg, callback)} calls in flight for S seconds and
 * prints {@code progress <ok> <failed> <monotonic ns>} once a second on stdout; then {@code latency <samples>
 * <not recorded> <p50> <p99> <p99.9> <max>} (ns from the send call to its onSuccess, sends started after W seconds,
 * nearest rank as bench_raw.nearest_rank) and {@code done <ok> <failed>}. The Python side samples the servers' CPU
 * time at the progress lines. Client logs go to stderr.
 */
public final class AsyncSendBench {
    /** Latency slots per measured second, preallocated so that a callback only stores a long. */
    private static final int SLOTS_PER_SECOND = 100_000;
    private static final int MAX_SLOTS = 16_000_000;

    private AsyncSendBench() {
    }

    /** Where each callback leaves its latency: a preallocated array filled through an atomic index. */
    private static final class Recorder {
        final long[] nanos;
        final AtomicInteger next = new AtomicInteger();

        Recorder(int capacity) {
            nanos = new long[capacity];
        }

        void record(long latency) {
            int slot = next.getAndIncrement();
            if (slot < nanos.length) {
                nanos[slot] = latency;
            }
        }

        /** The latency line; call once every callback has run (the semaphore orders their stores before). */
        String line() {
            int recorded = Math.min(next.get(), nanos.length);
            int dropped = next.get() - recorded;
            if (recorded == 0) {
                return "latency 0 " + dropped + " 0 0 0 0";
            }
            long[] sorted = Arrays.copyOf(nanos, recorded);
            Arrays.sort(sorted);
            return "latency " + recorded + " " + dropped + " " + rank(sorted, 500) + " " + rank(sorted, 990) + " "
                + rank(sorted, 999) + " " + sorted[recorded - 1];
        }

        private static long rank(long[] sorted, int permille) {
            long rank = Math.max(1L, ((long) permille * sorted.length + 999) / 1000);
            return sorted[(int) rank - 1];
        }
    }

    /** One send's callback: counts its outcome, records its latency when measured, frees its slot. */
    private static final class Timed implements SendCallback {
        private final long start;
        private final boolean measured;
        private final Semaphore slots;
        private final AtomicLong ok;
        private final AtomicLong failed;
        private final Recorder recorder;

        Timed(long start, boolean measured, Semaphore slots, AtomicLong ok, AtomicLong failed, Recorder recorder) {
            this.start = start;
            this.measured = measured;
            this.slots = slots;
            this.ok = ok;
            this.failed = failed;
            this.recorder = recorder;
        }

        @Override
        public void onSuccess(SendResult result) {
            if (measured) {
                recorder.record(System.nanoTime() - start);
            }
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
    }

    public static void main(String[] argv) throws Exception {
        Args args = Args.parse(argv, 0);
        String namesrv = args.get("namesrv");
        String topic = args.get("topic");
        int inflight = args.getInt("inflight", 256);
        int seconds = args.getInt("seconds", 20);
        int warmup = args.getInt("warmup", 0);
        byte[] body = new byte[args.getInt("size", 128)];

        DefaultMQProducer producer = new DefaultMQProducer("BenchAsyncGroup");
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName("bench-async-" + System.nanoTime());
        producer.setSendMsgTimeout(10000);
        producer.start();
        final Semaphore slots = new Semaphore(inflight);
        final AtomicLong ok = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        Recorder recorder = new Recorder((int) Math.min(MAX_SLOTS,
            (long) SLOTS_PER_SECOND * Math.max(1, seconds - warmup)));
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        long measureFrom = start + warmup * 1_000_000_000L;
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
            if (!slots.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                continue;
            }
            long sent = System.nanoTime();
            try {
                producer.send(new Message(topic, "TagA", body),
                    new Timed(sent, sent >= measureFrom, slots, ok, failed, recorder));
            } catch (Exception e) {
                failed.incrementAndGet();
                slots.release();
            }
        }
        slots.tryAcquire(inflight, 15, TimeUnit.SECONDS);
        System.out.println(recorder.line());
        System.out.println("done " + ok.get() + " " + failed.get());
        System.out.flush();
        producer.shutdown();
        System.exit(0);
    }
}
