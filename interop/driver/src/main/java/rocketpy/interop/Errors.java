package rocketpy.interop;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;

/** Turns a client exception into comparable observations: class, response code and server remark. */
final class Errors {
    private Errors() {
    }

    static Map<String, Object> describe(Throwable e) {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("class", e.getClass().getName());
        if (e instanceof MQClientException) {
            MQClientException mqe = (MQClientException) e;
            out.put("responseCode", mqe.getResponseCode());
            out.put("errorMessage", mqe.getErrorMessage());
        } else if (e instanceof MQBrokerException) {
            MQBrokerException mbe = (MQBrokerException) e;
            out.put("responseCode", mbe.getResponseCode());
            out.put("errorMessage", mbe.getErrorMessage());
        } else {
            out.put("message", e.getMessage());
        }
        if (e.getCause() != null && e.getCause() != e) {
            out.put("cause", describe(e.getCause()));
        }
        return out;
    }
}
