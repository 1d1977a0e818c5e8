"""Byte-level NameServer probe: hand-built request frames (both serialisations) and the raw responses.

Java clients hide much of a response (remarks, extFields they do not read, body formatting, a missing answer);
this scenario records them. The broker registration replayed is the golden REGISTER_BROKER captured from the Java
4.9.7 broker (tests/data/golden), so both NameServers hold the same state.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from interop.golden_frames import Frame
from interop.harness.environment import InteropEnv
from interop.harness.raw_client import RawConnection, describe

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "golden"
REGISTER_FILE = "broker-register-json"
UNKNOWN_CODE = 9999
UNKNOWN_CODE_WAIT_S = 1.5
_BARE_INT_KEY = re.compile(r"([{,]\s*)(-?\d+)(\s*:)")


def golden_registration() -> Frame:
    """The first REGISTER_BROKER request the Java broker sent (JSON), from the golden index."""
    index = json.loads((GOLDEN / "index.json").read_text())
    entry = next(e for e in index["frames"] if e["scenario"] == REGISTER_FILE and e["code"] == 103)
    return Frame((GOLDEN / entry["file"]).read_bytes())


def parse_body(code: int, body: str | None) -> Any:
    """JSON bodies parsed (fastjson writes integer map keys bare; they are quoted first), properties split.

    Java Sets (TopicList.topicList, ClusterInfo.clusterAddrTable values) are sorted: their order means nothing.
    """
    if body is None:
        return None
    if code in (318, 319):
        return dict(sorted(line.split("=", 1) for line in body.splitlines() if "=" in line))
    try:
        parsed = json.loads(_BARE_INT_KEY.sub(r'\1"\2"\3', body))
    except json.JSONDecodeError:
        return {"unparsed": body}
    if isinstance(parsed, dict):
        if isinstance(parsed.get("topicList"), list):
            parsed["topicList"] = sorted(parsed["topicList"])
        if isinstance(parsed.get("clusterAddrTable"), dict):
            parsed["clusterAddrTable"] = {k: sorted(v) for k, v in parsed["clusterAddrTable"].items()}
    return parsed


def _ident(broker: dict[str, str]) -> dict[str, str]:
    return {k: broker[k] for k in ("brokerName", "brokerAddr", "clusterName", "brokerId")}


def _probes(
    topic: str, broker: dict[str, str], data_version: str
) -> list[tuple[str, int, dict[str, str] | None, bytes]]:
    ident = _ident(broker)
    kv = {"namespace": "raw_ns", "key": "k", "value": "v"}
    return [
        ("routeKnown", 105, {"topic": topic}, b""),
        ("routeStandardJson", 105, {"topic": topic, "acceptStandardJsonOnly": "true"}, b""),
        ("routeUnknown", 105, {"topic": "RawNoSuchTopic"}, b""),
        ("clusterInfo", 106, None, b""),
        ("allTopics", 206, None, b""),
        ("topicsByCluster", 224, {"cluster": broker["clusterName"]}, b""),
        ("systemTopics", 304, None, b""),
        ("unitTopics", 311, None, b""),
        ("hasUnitSubTopics", 312, None, b""),
        ("hasUnitSubUnUnitTopics", 313, None, b""),
        ("kvPut", 100, kv, b""),
        ("kvGet", 101, {"namespace": "raw_ns", "key": "k"}, b""),
        ("kvList", 219, {"namespace": "raw_ns"}, b""),
        ("kvDelete", 102, {"namespace": "raw_ns", "key": "k"}, b""),
        ("kvGetMissing", 101, {"namespace": "raw_ns", "key": "k"}, b""),
        ("kvListMissing", 219, {"namespace": "raw_ns_none"}, b""),
        ("getConfig", 319, None, b""),
        ("updateConfig", 318, None, b"orderMessageEnable=true\n"),
        ("updateConfigRefused", 318, None, b"kvConfigPath=/tmp/raw-evil.json\n"),
        ("queryDataVersion", 322, ident, data_version.encode()),
        ("wipeWritePerm", 205, {"brokerName": broker["brokerName"]}, b""),
        ("addWritePerm", 327, {"brokerName": broker["brokerName"]}, b""),
        ("deleteTopic", 216, {"topic": "SELF_TEST_TOPIC"}, b""),
        ("routeDeleted", 105, {"topic": "SELF_TEST_TOPIC"}, b""),
        ("unregister", 104, ident, b""),
        ("clusterInfoAfterUnregister", 106, None, b""),
    ]


def _missing_field_probes(
    topic: str, broker: dict[str, str], data_version: str
) -> list[tuple[str, int, dict[str, str] | None, bytes]]:
    """Requests lacking a @CFNotNull header field, then a read showing what the server made of them."""
    return [
        ("routeEmptyExt", 105, {}, b""),
        ("routeNoExt", 105, None, b""),
        ("routeOtherField", 105, {"other": "x"}, b""),
        ("kvPutNoValue", 100, {"namespace": "raw_ns", "key": "nv"}, b""),
        ("kvGetNoValueKey", 101, {"namespace": "raw_ns", "key": "nv"}, b""),
        ("kvGetNoKey", 101, {"namespace": "raw_ns"}, b""),
        ("kvListNoNamespace", 219, {}, b""),
        ("topicsByClusterNoCluster", 224, {}, b""),
        ("wipeNoBrokerName", 205, {}, b""),
        ("routeStillWritable", 105, {"topic": topic}, b""),
    ]


PROBE_SETS = {"protocol": _probes, "missing-fields": _missing_field_probes}


def raw_namesrv(env: InteropEnv, probe_set: str = "protocol") -> dict[str, Any]:
    """Register the golden broker, run a probe set in JSON then ROCKETMQ, record the normalised responses."""
    registration = golden_registration()
    header = registration.header()
    body = registration.raw[8 + registration.header_length :]
    wrapper = json.loads(_BARE_INT_KEY.sub(r'\1"\2"\3', body.decode()))
    data_version = json.dumps(wrapper["topicConfigSerializeWrapper"]["dataVersion"], separators=(",", ":"))
    out: dict[str, Any] = {}
    for st in ("JSON", "ROCKETMQ"):
        broker_conn = RawConnection(env.namesrv.addr)
        client = RawConnection(env.namesrv.addr)
        try:
            reg = broker_conn.call(103, header["extFields"], body, st, version=header["version"])
            out[f"{st}:register"] = _view(103, reg)
            for label, code, ext, req_body in PROBE_SETS[probe_set]("TBW102", header["extFields"], data_version):
                frame = client.call(code, ext, req_body, st)
                out[f"{st}:{label}"] = _view(code, frame)
            if probe_set == "protocol":
                frame = client.call(UNKNOWN_CODE, None, b"", st, wait=UNKNOWN_CODE_WAIT_S)
                out[f"{st}:unknownCode"] = _view(UNKNOWN_CODE, frame)
            else:
                out[f"{st}:unregister"] = _view(104, broker_conn.call(104, _ident(header["extFields"]), b"", st))
        finally:
            client.close()
            broker_conn.close()
    normalised: dict[str, Any] = _port_free(env.normaliser()(out), env.namesrv.addr.rsplit(":", 1)[1])
    return normalised


def _view(code: int, frame: Frame | None) -> dict[str, Any]:
    view = describe(frame)
    if frame is not None:
        text = view["body"]
        # fastjson's default output writes integer map keys bare ({0:"addr"}): not standard JSON; clients other
        # than Java's depend on whether it happens (GET_ROUTEINFO_BY_TOPIC's acceptStandardJsonOnly exists for it).
        view["bodyHasBareIntKeys"] = bool(text and _BARE_INT_KEY.search(text) and code not in (318, 319))
        view["body"] = parse_body(code, text)
    return view


def _port_free(value: Any, port: str) -> Any:
    if isinstance(value, dict):
        return {
            k: "<namesrv-port>" if k == "listenPort" and v == port else _port_free(v, port) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_port_free(v, port) for v in value]
    return value


# Pinned behaviour that is not the 4.9.7 jar's, each an exact expected value (see interop/README.md):
# - every response carries the server's version: 407 (V4_9_7) from the reference, 409 (V4_9_8) pinned;
# - UPDATE_NAMESRV_CONFIG refusal remark and the configBlackList key are 4.9.8's (scenarios.admin_as_4_9_8);
# - an unknown request code: the Java NameServer sends no response at all (PROTOCOL.md section 1); the project's
#   remoting server answers REQUEST_CODE_NOT_SUPPORTED (docs/architecture.md, "remoting"), as the Java broker does.
V4_9_7, V4_9_8 = 407, 409


def raw_as_pinned(java: dict[str, Any]) -> dict[str, Any]:
    """The raw-probe observations the pinned behaviour gives, derived exactly from the 4.9.7 reference's."""
    from tests.interop.scenarios import CONFIG_BLACKLIST_4_9_8, REFUSAL_4_9_7, REFUSAL_4_9_8

    out: dict[str, Any] = json.loads(json.dumps(java))
    for label, view in out.items():
        if view.get("version") == V4_9_7:
            view["version"] = V4_9_8
        if view.get("remark") == REFUSAL_4_9_7:
            view["remark"] = REFUSAL_4_9_8
        if label.endswith(":getConfig"):
            view["body"]["configBlackList"] = CONFIG_BLACKLIST_4_9_8
        if label.endswith(":unknownCode"):
            assert view == {"response": None}, "the 4.9.7 NameServer answered an unknown code: revisit"
            st = label.split(":", 1)[0]
            out[label] = {
                "serializeType": st,
                "code": 3,
                "flag": 1,
                "language": "JAVA" if st == "JSON" else 0,
                "version": V4_9_8,
                "remark": f" request type {UNKNOWN_CODE} not supported",
                "extFields": None,
                "body": None,
                "bodyHasBareIntKeys": False,
            }
    return out


def raw_missing_fields_as_pinned(java: dict[str, Any]) -> dict[str, Any]:
    """Only the version differs by pinning here: missing-field handling is compared as the reference does it."""
    out: dict[str, Any] = json.loads(json.dumps(java))
    for view in out.values():
        if view.get("version") == V4_9_7:
            view["version"] = V4_9_8
    return out
