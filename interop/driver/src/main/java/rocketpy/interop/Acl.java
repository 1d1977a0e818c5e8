package rocketpy.interop;

import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.JSONArray;
import com.alibaba.fastjson.JSONObject;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.remoting.RPCHook;
import org.apache.rocketmq.remoting.netty.NettyClientConfig;
import org.apache.rocketmq.remoting.netty.NettyRemotingClient;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;

/**
 * The "acl" scenario: steps from {@code --steps FILE} against a broker with aclEnable=true, one observation each.
 *
 * <ul>
 * <li>{@code raw}: a request with the given code, extFields and body, signed by the 4.9.8 AclClientRPCHook when
 * {@code ak}/{@code sk} are given (none: no credentials at all); observes the response code, remark and, with
 * {@code withExt}, its extFields. {@code untilCode} repeats it every 500 ms (up to {@code timeoutMs}) until that
 * code comes back: how a change of plain_acl.yml is waited for.</li>
 * <li>{@code mqadmin}: an mqadmin command line (its ACL credentials come from rocketmq.home.dir/conf/tools.yml).</li>
 * <li>{@code send}: a DefaultMQProducer with or without credentials sends one message.</li>
 * </ul>
 */
final class Acl {
    private final String namesrv;
    private final JSONArray steps;
    private final Map<String, NettyRemotingClient> clients = new HashMap<String, NettyRemotingClient>();

    Acl(Args args) throws Exception {
        this.namesrv = args.get("namesrv");
        byte[] raw = Files.readAllBytes(new File(args.get("steps")).toPath());
        this.steps = JSON.parseArray(new String(raw, StandardCharsets.UTF_8));
    }

    List<Object> run() throws Exception {
        List<Object> results = new ArrayList<Object>();
        try {
            for (int i = 0; i < steps.size(); i++) {
                JSONObject step = steps.getJSONObject(i);
                Map<String, Object> observed = new LinkedHashMap<String, Object>();
                observed.put("name", step.getString("name"));
                try {
                    observed.put("result", runStep(step));
                } catch (Exception e) {
                    e.printStackTrace(System.err);
                    observed.put("error", Errors.describe(e));
                }
                results.add(observed);
            }
        } finally {
            for (NettyRemotingClient client : clients.values()) {
                client.shutdown();
            }
        }
        return results;
    }

    private Object runStep(JSONObject s) throws Exception {
        String op = s.getString("op");
        switch (op) {
            case "raw":
                return raw(s);
            case "mqadmin":
                return Mqadmin.run(s.getJSONArray("argv").toJavaList(String.class));
            case "send":
                return send(s);
            default:
                throw new IllegalArgumentException("unknown acl op: " + op);
        }
    }

    private static RPCHook hook(JSONObject s) {
        String ak = s.getString("ak");
        return ak == null ? null : new AclClientRPCHook(new SessionCredentials(ak, s.getString("sk")));
    }

    private NettyRemotingClient client(JSONObject s) {
        String key = s.getString("ak") + ":" + s.getString("sk");
        NettyRemotingClient client = clients.get(key);
        if (client == null) {
            client = new NettyRemotingClient(new NettyClientConfig());
            RPCHook hook = hook(s);
            if (hook != null) {
                client.registerRPCHook(hook);
            }
            client.start();
            clients.put(key, client);
        }
        return client;
    }

    private Map<String, Object> raw(JSONObject s) throws Exception {
        Integer until = s.getInteger("untilCode");
        long deadline = System.currentTimeMillis() + s.getLongValue("timeoutMs");
        while (true) {
            RemotingCommand request = RemotingCommand.createRequestCommand(s.getIntValue("code"), null);
            JSONObject ext = s.getJSONObject("ext");
            if (ext != null) {
                HashMap<String, String> fields = new HashMap<String, String>();
                for (String k : ext.keySet()) {
                    fields.put(k, ext.getString(k));
                }
                request.setExtFields(fields);
            }
            String body = s.getString("body");
            if (body != null) {
                request.setBody(body.getBytes(StandardCharsets.UTF_8));
            }
            RemotingCommand response = client(s).invokeSync(s.getString("addr"), request, 5000);
            if (until == null || response.getCode() == until || System.currentTimeMillis() > deadline) {
                Map<String, Object> out = new LinkedHashMap<String, Object>();
                out.put("code", response.getCode());
                out.put("remark", response.getRemark());
                if (s.getBooleanValue("withExt")) {
                    out.put("ext", response.getExtFields() == null ? null
                        : new TreeMap<String, String>(response.getExtFields()));
                }
                if (until != null) {
                    out.put("reached", response.getCode() == until);
                }
                return out;
            }
            Thread.sleep(500);
        }
    }

    private Map<String, Object> send(JSONObject s) throws Exception {
        DefaultMQProducer producer = new DefaultMQProducer(s.getString("group"), hook(s));
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName("acl-" + System.nanoTime());
        producer.setRetryTimesWhenSendFailed(0);
        producer.start();
        try {
            SendResult result = producer.send(new Message(s.getString("topic"), "TagA",
                "acl".getBytes(StandardCharsets.UTF_8)), 10000);
            Map<String, Object> out = new LinkedHashMap<String, Object>();
            out.put("sendStatus", result.getSendStatus().name());
            out.put("topic", result.getMessageQueue().getTopic());
            return out;
        } finally {
            producer.shutdown();
        }
    }
}
