package rocketpy.interop;

import java.util.HashMap;
import java.util.Map;

/** {@code --key value} command-line options of a scenario. */
final class Args {
    private final Map<String, String> values = new HashMap<String, String>();

    private Args() {
    }

    static Args parse(String[] argv, int from) {
        Args args = new Args();
        for (int i = from; i < argv.length; i += 2) {
            if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
                throw new IllegalArgumentException("expected --key value pairs, got: " + argv[i]);
            }
            args.values.put(argv[i].substring(2), argv[i + 1]);
        }
        return args;
    }

    String get(String key) {
        String value = values.get(key);
        if (value == null) {
            throw new IllegalArgumentException("missing required option --" + key);
        }
        return value;
    }

    String get(String key, String fallback) {
        String value = values.get(key);
        return value == null ? fallback : value;
    }

    int getInt(String key, int fallback) {
        String value = values.get(key);
        return value == null ? fallback : Integer.parseInt(value);
    }
}
