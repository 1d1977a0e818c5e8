package rocketpy.interop;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.UnsupportedEncodingException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.tools.command.MQAdminStartup;

/**
 * Runs mqadmin sub-commands inside this JVM through {@code MQAdminStartup.main0}, capturing what each prints.
 *
 * <p>main0 never calls System.exit for a well-formed command line (only commons-cli parse errors and "-h" do, in
 * ServerUtil.parseCmdLine), and it catches a failing command's exception and prints its stack trace to stderr. So
 * stdout is the command's user-visible output and the exception lines of stderr are its error report. The harness
 * always passes complete argument lists, which keeps ServerUtil's System.exit out of reach.
 */
final class Mqadmin {
    /** Prefix of every log line in interop/reference/conf/logback_tools.xml, so logs are told apart from errors. */
    private static final String LOG_PREFIX = "[log]";

    private Mqadmin() {
    }

    static synchronized Map<String, Object> run(List<String> argv) throws UnsupportedEncodingException {
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, "UTF-8"));
        System.setErr(new PrintStream(err, true, "UTF-8"));
        try {
            MQAdminStartup.main0(argv.toArray(new String[0]), null);
        } finally {
            System.out.flush();
            System.err.flush();
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
        String errText = err.toString("UTF-8");
        savedErr.print(errText);
        Map<String, Object> result = new LinkedHashMap<String, Object>();
        result.put("argv", argv);
        result.put("stdout", out.toString("UTF-8"));
        result.put("errors", exceptionLines(errText));
        return result;
    }

    /** Keeps "Exception: message" and "Caused by:" lines (and message continuation lines), drops frames and logs. */
    static List<String> exceptionLines(String stderr) {
        List<String> lines = new ArrayList<String>();
        for (String line : stderr.split("\r?\n")) {
            String trimmed = line.trim();
            boolean frame = trimmed.startsWith("at ") || (trimmed.startsWith("...") && trimmed.endsWith("more"));
            if (trimmed.isEmpty() || frame || line.startsWith(LOG_PREFIX)) {
                continue;
            }
            lines.add(trimmed);
        }
        return lines;
    }
}
