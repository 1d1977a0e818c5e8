import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.JSONObject;
import com.alibaba.fastjson.serializer.SerializerFeature;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.filter.expression.BooleanExpression;
import org.apache.rocketmq.filter.expression.EvaluationContext;
import org.apache.rocketmq.filter.parser.SelectorParser;

/**
 * The reference SQL92 filter as an oracle for rocketpy.filter (interop/harness/selector_oracle.py).
 *
 * <p>Reads {"expressions": [...], "properties": [{name: value}...]} from the file given as the only argument and
 * prints, one JSON array, for each expression what SelectorParser.parse (the broker's SqlFilter.compile) gives:
 * {"error": e.getMessage()} as the broker puts it in a SUBSCRIPTION_PARSE_FAILED remark, or {"text": toString(),
 * "results": [...]} with Expression.evaluate on each property map: "true", "false", "null" or "error" (the broker's
 * ExpressionMessageFilter delivers a message only on "true").
 */
public final class SelectorOracle {
    private SelectorOracle() {
    }

    public static void main(String[] args) throws Exception {
        JSONObject input = JSON.parseObject(new String(Files.readAllBytes(Paths.get(args[0])), StandardCharsets.UTF_8));
        List<String> expressions = input.getJSONArray("expressions").toJavaList(String.class);
        List<Map<String, String>> properties = new ArrayList<Map<String, String>>();
        for (Object one : input.getJSONArray("properties")) {
            Map<String, String> map = new LinkedHashMap<String, String>();
            for (Map.Entry<String, Object> e : ((JSONObject) one).entrySet()) {
                map.put(e.getKey(), String.valueOf(e.getValue()));
            }
            properties.add(map);
        }
        List<Object> out = new ArrayList<Object>();
        for (String expression : expressions) {
            Map<String, Object> row = new LinkedHashMap<String, Object>();
            row.put("expression", expression);
            BooleanExpression compiled;
            try {
                compiled = SelectorParser.parse(expression);
            } catch (Throwable e) {
                row.put("error", e.getMessage());
                out.add(row);
                continue;
            }
            row.put("text", compiled.toString());
            List<String> results = new ArrayList<String>();
            for (final Map<String, String> props : properties) {
                EvaluationContext context = new EvaluationContext() {
                    @Override
                    public Object get(String name) {
                        return props.get(name);
                    }

                    @Override
                    public Map<String, Object> keyValues() {
                        return null;
                    }
                };
                String result;
                try {
                    Object value = compiled.evaluate(context);
                    result = value == null ? "null" : value instanceof Boolean ? value.toString() : "value:" + value;
                } catch (Throwable e) {
                    result = "error";
                }
                results.add(result);
            }
            row.put("results", results);
            out.add(row);
        }
        System.out.println(JSON.toJSONString(out, SerializerFeature.WriteMapNullValue));
    }
}
