"""Interop scenarios: each runs the Java driver against an InteropEnv and returns normalised observations.

A scenario's observations are compared as a whole between the Java reference and rocketpy, so everything kept here
must be deterministic for a given server behaviour (ids, addresses, times and temp paths are normalised away).
"""

from __future__ import annotations

import json
from typing import Any

from interop.harness import mqadmin_output
from interop.harness.driver import run_admin_steps, run_driver
from interop.harness.environment import DEFAULT_BROKER, DEFAULT_CLUSTER, InteropEnv

MESSAGE_COUNT = 16
MSG_TOPIC = "InteropMsgTopic"
ADMIN_TOPIC = "InteropAdminTopic"
KV_NAMESPACE = "interop_ns"


def produce_consume(env: InteropEnv, serialize_type: str = "JSON") -> dict[str, Any]:
    """Producer resolves the route via the NameServer under test, sends; a push consumer receives them all.

    `serialize_type` is the header serialisation the 4.9.8 clients use (JSON or ROCKETMQ).
    """
    run = run_driver(
        env.build,
        "produce-consume",
        {"namesrv": env.namesrv.addr, "topic": MSG_TOPIC, "count": str(MESSAGE_COUNT), "cluster": DEFAULT_CLUSTER},
        env.driver_home("produce-consume"),
        serialize_type=serialize_type,
    )
    observed: dict[str, Any] = env.normaliser()(run.observations)
    return observed


def _mq(*args: str) -> dict[str, Any]:
    return {"op": "mqadmin", "args": list(args)}


def admin_steps(ns: str) -> dict[str, dict[str, Any]]:
    """The mqadmin / admin-API sequence of the NameServer admin scenario, by label, in execution order.

    One driver JVM runs all of it. The broker registered with the NameServer is the Java reference broker.
    """
    kv, evil = KV_NAMESPACE, "/tmp/interop-evil.properties"
    return {
        "createTopic": {"op": "createTopicOnBrokers", "topic": ADMIN_TOPIC, "cluster": DEFAULT_CLUSTER, "queues": 4},
        "waitForRoute": {"op": "waitForRoute", "topic": ADMIN_TOPIC, "timeoutMs": 15000},
        "waitForBrokerRuntimeInfo": {"op": "waitForBrokerRuntimeInfo", "timeoutMs": 20000},
        "clusterList": _mq("clusterList", "-n", ns),
        "topicList": _mq("topicList", "-n", ns),
        "fetchAllTopicList": {"op": "fetchAllTopicList"},
        "topicRoute": _mq("topicRoute", "-n", ns, "-t", ADMIN_TOPIC),
        "topicClusterList": _mq("topicClusterList", "-n", ns, "-t", ADMIN_TOPIC),
        "fetchTopicsByCluster": {"op": "fetchTopicsByCluster", "cluster": DEFAULT_CLUSTER},
        "examineBrokerClusterInfo": {"op": "examineBrokerClusterInfo"},
        "getNamesrvConfig": _mq("getNamesrvConfig", "-n", ns),
        "updateKvConfig1": _mq("updateKvConfig", "-n", ns, "-s", kv, "-k", "k1", "-v", "v1"),
        "updateKvConfig2": _mq("updateKvConfig", "-n", ns, "-s", kv, "-k", "k2", "-v", "v2"),
        "getKVConfig": {"op": "getKVConfig", "namespace": kv, "key": "k1"},
        "getKVList": {"op": "getKVListByNamespace", "namespace": kv},
        "deleteKvConfig": _mq("deleteKvConfig", "-n", ns, "-s", kv, "-k", "k1"),
        "getKVConfigDeleted": {"op": "getKVConfig", "namespace": kv, "key": "k1"},
        "getKVListAfterDelete": {"op": "getKVListByNamespace", "namespace": kv},
        "getKVListUnknownNamespace": {"op": "getKVListByNamespace", "namespace": "interop_no_such_ns"},
        "putOrderConf": _mq(
            "updateKvConfig", "-n", ns, "-s", "ORDER_TOPIC_CONFIG", "-k", ADMIN_TOPIC, "-v", "broker-a:4"
        ),
        # The NameServer adds orderTopicConf to routes only while orderMessageEnable is true.
        "routeOrderConfDisabled": {"op": "examineTopicRouteInfo", "topic": ADMIN_TOPIC},
        "updateOrderMessageEnable": _mq("updateNamesrvConfig", "-n", ns, "-k", "orderMessageEnable", "-v", "true"),
        "configAfterUpdate": {"op": "getNameServerConfig"},
        "routeWithOrderConf": {"op": "examineTopicRouteInfo", "topic": ADMIN_TOPIC},
        "deleteOrderConf": _mq("deleteKvConfig", "-n", ns, "-s", "ORDER_TOPIC_CONFIG", "-k", ADMIN_TOPIC),
        "routeWithoutOrderConf": {"op": "examineTopicRouteInfo", "topic": ADMIN_TOPIC},
        "wipeWritePerm": _mq("wipeWritePerm", "-n", ns, "-b", DEFAULT_BROKER),
        "routeAfterWipe": {"op": "examineTopicRouteInfo", "topic": ADMIN_TOPIC},
        "addWritePerm": _mq("addWritePerm", "-n", ns, "-b", DEFAULT_BROKER),
        "routeAfterAdd": {"op": "examineTopicRouteInfo", "topic": ADMIN_TOPIC},
        "deleteTopic": _mq("deleteTopic", "-n", ns, "-c", DEFAULT_CLUSTER, "-t", ADMIN_TOPIC),
        "routeAfterDelete": {"op": "examineTopicRouteInfo", "topic": ADMIN_TOPIC},
        "topicRouteAfterDelete": _mq("topicRoute", "-n", ns, "-t", ADMIN_TOPIC),
        "updateConfigStorePath": _mq("updateNamesrvConfig", "-n", ns, "-k", "configStorePath", "-v", evil),
        "apiUpdateConfigStorePath": {"op": "updateNameServerConfig", "key": "configStorePath", "value": evil},
        "apiUpdateKvConfigPath": {"op": "updateNameServerConfig", "key": "kvConfigPath", "value": evil},
        "configAfterRefusals": {"op": "getNameServerConfig"},
    }


def _shape(step: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    """Parse mqadmin text where its format carries structure; keep everything else as observed."""
    result = observed.get("result")
    if step["op"] != "mqadmin" or not isinstance(result, dict):
        return observed
    command, stdout = step["args"][0], result["stdout"]
    parsed: Any = stdout
    if command == "clusterList":
        parsed = mqadmin_output.cluster_list(stdout)
    elif command == "getNamesrvConfig":
        parsed = mqadmin_output.namesrv_config(stdout)
    elif command in ("topicList", "topicClusterList"):
        parsed = mqadmin_output.sorted_lines(stdout)
    return {**observed, "result": {**result, "stdout": parsed}}


def _port_free(config: Any, port: str) -> Any:
    """A NameServer config's listenPort is its (per-run) port: an address, so normalised like one."""
    if isinstance(config, dict):
        return {
            k: ("<namesrv-port>" if k == "listenPort" and v == port else _port_free(v, port)) for k, v in config.items()
        }
    return config


def namesrv_admin(env: InteropEnv, serialize_type: str = "JSON") -> dict[str, Any]:
    """Runs admin_steps against the NameServer under test (a broker must be registered with it).

    Also observes the NameServer's kvConfig.json afterwards (parsed), the file both implementations keep under
    ~/namesrv/ and an operator may carry from one to the other.
    """
    steps = admin_steps(env.namesrv.addr)
    observed = run_admin_steps(
        env.build, env.namesrv.addr, list(steps.values()), env.driver_home("admin"), serialize_type
    )
    normalise, port = env.normaliser(), env.namesrv.addr.rsplit(":", 1)[1]
    out = {
        label: _port_free(normalise(_shape(step, obs)), port)
        for (label, step), obs in zip(steps.items(), observed, strict=True)
    }
    kv_file = env.namesrv_home / "namesrv" / "kvConfig.json"
    out["kvConfigFile"] = json.loads(kv_file.read_text()) if kv_file.exists() else None
    return out


# The reference servers on Maven Central are 4.9.7; the project pins 4.9.8 behaviour (PROTOCOL.md preamble). The
# 4.9.8 NameServer differs from 4.9.7 on exactly these admin observations (read from the 4.9.8 source,
# DefaultRequestProcessor.updateConfig and NamesrvConfig.configBlackList), so the Java 4.9.7 observations are turned
# into the 4.9.8 ones before the comparison. Everything else is compared as observed.
REFUSAL_4_9_7 = "Can not update config path"
REFUSAL_4_9_8 = "Can not update config in black list."
CONFIG_BLACKLIST_4_9_8 = "configBlackList;configStorePath;kvConfigPath"


def admin_as_4_9_8(java_4_9_7: dict[str, Any]) -> dict[str, Any]:
    """The namesrv_admin observations a 4.9.8 NameServer gives, derived from the 4.9.7 reference's.

    Fails loudly if the 4.9.7 observations are not the ones this delta was written for.
    """
    text = json.dumps(java_4_9_7)
    assert REFUSAL_4_9_7 in text, "4.9.7 refusal remark not observed: revisit admin_as_4_9_8"
    out: dict[str, Any] = json.loads(text.replace(REFUSAL_4_9_7, REFUSAL_4_9_8))
    for label in ("configAfterUpdate", "configAfterRefusals"):
        for config in out[label].get("result", {}).values():
            assert "configBlackList" not in config
            config["configBlackList"] = CONFIG_BLACKLIST_4_9_8
    stdout = out["getNamesrvConfig"]["result"]["stdout"]
    for config in stdout.values():
        config["configBlackList"] = CONFIG_BLACKLIST_4_9_8
    return out


LIFECYCLE_TOPIC = "InteropLifecycleTopic"


def broker_lifecycle(env: InteropEnv, serialize_type: str = "JSON") -> dict[str, Any]:
    """Master + slave register, the slave is killed (channel close), the master stops gracefully (UNREGISTER_BROKER).

    Both brokers are started here and register in the less common ways: the master with compressedRegister=true
    (REGISTER_BROKER body deflated, header compressed=true), the slave (brokerId 1, same broker name) with
    ROCKETMQ serialisation. Each phase waits for the registration state it expects, then observes the
    cluster info, the route and the topic list as the NameServer under test serves them.
    """
    ns = env.namesrv.addr
    env.start_broker(conf_extra={"compressedRegister": "true"})
    env.start_broker(role="broker-slave", broker_id=1, jvm_props=["-Drocketmq.serialize.type=ROCKETMQ"])

    def phase(name: str, ids: list[int], steps: list[dict[str, Any]]) -> Any:
        wait = {"op": "waitForBrokerIds", "brokerName": DEFAULT_BROKER, "ids": ids, "timeoutMs": 30000}
        observed = run_admin_steps(env.build, ns, [wait, *steps], env.driver_home(name), serialize_type)
        return [_shape(step, obs) for step, obs in zip([wait, *steps], observed, strict=True)]

    route = {"op": "examineTopicRouteInfo", "topic": LIFECYCLE_TOPIC}
    out: dict[str, Any] = {}
    create = {"op": "createTopicOnBrokers", "topic": LIFECYCLE_TOPIC, "cluster": DEFAULT_CLUSTER, "queues": 2}
    wait_route = {"op": "waitForRoute", "topic": LIFECYCLE_TOPIC, "timeoutMs": 15000}
    runtime = {"op": "waitForBrokerRuntimeInfo", "timeoutMs": 20000}
    out["withSlave"] = phase("with-slave", [0, 1], [create, wait_route, route, runtime, _mq("clusterList", "-n", ns)])
    env.stop_broker("broker-slave")  # SIGKILL: the NameServer only sees the connection close
    out["slaveKilled"] = phase("slave-killed", [0], [route, {"op": "examineBrokerClusterInfo"}])
    env.stop_broker("broker", grace=30)  # SIGTERM: the broker's shutdown hook sends UNREGISTER_BROKER
    out["masterStopped"] = phase(
        "master-stopped",
        [],
        [{"op": "examineBrokerClusterInfo"}, route, {"op": "fetchAllTopicList"}, _mq("clusterList", "-n", ns)],
    )
    normalised: dict[str, Any] = env.normaliser()(out)
    return normalised
