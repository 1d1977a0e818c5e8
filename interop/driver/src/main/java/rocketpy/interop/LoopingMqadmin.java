package rocketpy.interop;

import java.io.File;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.rocketmq.tools.command.MQAdminStartup;

/**
 * "mqadmin-first-lines": runs an mqadmin command that never returns (clusterRT's {@code while (true)} rounds) in a
 * daemon thread through {@code MQAdminStartup.main0}, collects what it prints on System.out until {@code --lines}
 * lines are complete (or {@code --timeout-ms} passed) and returns them. The caller (Driver) then prints the JSON and
 * leaves with System.exit, which ends the still-looping command.
 *
 * <p>{@code --argv} is the command line, its words separated by single spaces. With {@code --log-file} and
 * {@code --until} it also waits until that file (relative to user.home) holds the text {@code --until} and returns
 * the file: startMonitoring reports only through the client logger (ClientLogger, a rolling file under
 * user.home/logs/rocketmqlogs). With {@code --stop-file} it then keeps the command running (its clients online)
 * until that file exists, so that another monitor can look at them.
 */
final class LoopingMqadmin {
    private final String[] argv;
    private final int lines;
    private final int timeoutMs;
    private final String logFile;
    private final String until;
    private final String stopFile;

    LoopingMqadmin(Args args) {
        this.argv = args.get("argv").split(" ");
        this.lines = args.getInt("lines", 2);
        this.timeoutMs = args.getInt("timeout-ms", 60000);
        this.logFile = args.get("log-file", null);
        this.until = args.get("until", null);
        this.stopFile = args.get("stop-file", null);
    }

    Map<String, Object> run() throws Exception {
        final Capture capture = new Capture();
        PrintStream savedOut = System.out;
        System.setOut(new PrintStream(capture, true, "UTF-8"));
        Thread command = new Thread(new Runnable() {
            @Override
            public void run() {
                MQAdminStartup.main0(argv, null);
            }
        }, "looping-mqadmin");
        command.setDaemon(true);
        command.start();
        long started = System.currentTimeMillis();
        boolean complete = capture.awaitLines(lines, timeoutMs);
        String log = null;
        if (logFile != null) {
            File file = new File(System.getProperty("user.home"), logFile);
            complete = false;
            while (System.currentTimeMillis() - started < timeoutMs) {
                log = file.exists() ? new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8) : "";
                if (log.contains(until)) {
                    complete = true;
                    break;
                }
                Thread.sleep(200);
            }
        }
        if (stopFile != null) {
            while (!new File(stopFile).exists() && System.currentTimeMillis() - started < timeoutMs) {
                Thread.sleep(100);
            }
        }
        System.setOut(savedOut);
        Map<String, Object> result = new LinkedHashMap<String, Object>();
        result.put("argv", Arrays.asList(argv));
        result.put("stdout", capture.firstLines(lines));
        result.put("log", log);
        result.put("complete", complete);
        result.put("stillRunning", command.isAlive());
        return result;
    }

    /** An OutputStream that keeps every byte and wakes the waiter at each newline. */
    private static final class Capture extends OutputStream {
        private final StringBuilder text = new StringBuilder();
        private int newlines;

        @Override
        public synchronized void write(int b) {
            text.append((char) b);
            if (b == '\n') {
                newlines++;
                notifyAll();
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            String chunk = new String(b, off, len, StandardCharsets.UTF_8);
            text.append(chunk);
            for (int i = 0; i < chunk.length(); i++) {
                if (chunk.charAt(i) == '\n') {
                    newlines++;
                }
            }
            notifyAll();
        }

        synchronized boolean awaitLines(int wanted, int timeoutMs) throws InterruptedException {
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (newlines < wanted) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    return false;
                }
                wait(left);
            }
            return true;
        }

        synchronized String firstLines(int wanted) {
            int seen = 0;
            for (int i = 0; i < text.length(); i++) {
                if (text.charAt(i) == '\n' && ++seen == wanted) {
                    return text.substring(0, i + 1);
                }
            }
            return text.toString();
        }
    }
}
