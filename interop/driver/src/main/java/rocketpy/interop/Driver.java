package rocketpy.interop;

import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.serializer.SerializerFeature;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Entry point: {@code java -cp <driver cp> rocketpy.interop.Driver <scenario> [--key value ...]}.
 *
 * <p>Runs one scenario family with the official 4.9.8 client libraries and prints what it observed as exactly one
 * JSON object on the last line of stdout. Everything else (client logs, stack traces) goes to stderr. The process
 * exits 0 when the scenario ran to the end (its observations may still record failures: judging them is the pytest
 * layer's job) and 2 when the driver itself could not run the scenario.
 */
public final class Driver {
    private Driver() {
    }

    public static void main(String[] argv) {
        // Keep a handle on the real stdout: mqadmin capture swaps System.out while commands run.
        PrintStream realOut = System.out;
        int status = 0;
        Map<String, Object> result = new LinkedHashMap<String, Object>();
        try {
            if (argv.length < 1) {
                throw new IllegalArgumentException("usage: Driver <scenario> [--key value ...]");
            }
            Args args = Args.parse(argv, 1);
            result.put("scenario", argv[0]);
            result.put("observations", run(argv[0], args));
        } catch (Throwable e) {
            e.printStackTrace(System.err);
            result.put("driverError", Errors.describe(e));
            status = 2;
        }
        realOut.println(JSON.toJSONString(result, SerializerFeature.DisableCircularReferenceDetect,
            SerializerFeature.WriteNonStringKeyAsString, SerializerFeature.WriteMapNullValue));
        realOut.flush();
        // Client libraries leave non-daemon threads behind; the observations are printed, so leave now.
        System.exit(status);
    }

    private static Object run(String scenario, Args args) throws Exception {
        if ("admin".equals(scenario)) {
            return new AdminSteps(args).run();
        }
        if ("produce-consume".equals(scenario)) {
            return new Messaging(args).run();
        }
        if ("broker-calls".equals(scenario)) {
            return new BrokerCalls(args).run();
        }
        switch (scenario) {
            case "tls-clients":
                return new TlsClients(args).run();
            case "send-receive":
                return new SendReceive(args).run();
            case "ordered":
                return new Consumers(args).ordered();
            case "clustering":
                return new Consumers(args).clustering();
            case "broadcasting":
                return new Consumers(args).broadcasting();
            case "tag-filter":
                return new Consumers(args).tagFilter();
            case "lite-pull":
                return new LitePull(args).run();
            case "broker-admin":
                return new BrokerAdmin(args).run();
            case "admin-codes":
                return new AdminCodes(args).run();
            case "offsets-before":
                return new Restarts(args).before();
            case "offsets-after":
                return new Restarts(args).after();
            case "quickstart":
                return new Restarts(args).quickstart();
            case "cluster-spread":
                return new ClusterSpread(args).run();
            case "store-write":
                return new StoreCompat(args).write();
            case "store-read":
                return new StoreCompat(args).read();
            case "request-reply":
                return new ReplyTrace(args).requestReply();
            case "trace":
                return new ReplyTrace(args).trace(args.get("topic"), args.get("trace-topic", null), args.get("prefix"));
            case "delay-levels":
                return new Delays(args).levels();
            case "delay-send":
                return new Delays(args).send();
            case "delay-receive":
                return new Delays(args).receive();
            case "retry":
                return new Delays(args).retry();
            case "retry-pending":
                return new Delays(args).retryPending();
            case "sql92":
                return new Sql92(args).run();
            case "transactions":
                return new Transactions(args).run();
            case "tx-store-write":
                return new Transactions(args).storeWrite();
            case "tx-store-read":
                return new Transactions(args).storeRead();
            case "acl":
                return new Acl(args).run();
            case "held-consumer":
                return new HeldConsumer(args).run();
            case "failover":
                return new Failover(args).run();
            case "mqadmin-first-lines":
                return new LoopingMqadmin(args).run();
            default:
                throw new IllegalArgumentException("unknown scenario: " + scenario);
        }
    }
}
