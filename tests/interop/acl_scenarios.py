"""ACL scenarios (issue 8): a broker with aclEnable=true and its own ROCKETMQ_HOME holding plain_acl.yml and the
tools.yml mqadmin signs with; requests sent by the 4.9.8 AclClientRPCHook (Acl.java) with the right secret, a wrong
one, an unknown key or none, and the ACL admin commands of mqadmin, whose file rewrites are compared parsed.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from interop.harness.build import REFERENCE_DIR
from interop.harness.driver import run_driver
from interop.harness.environment import InteropEnv

PLAIN_ACL = """\
globalWhiteRemoteAddresses:
- 10.10.103.*
accounts:
- accessKey: RocketMQ
  secretKey: '12345678'
  whiteRemoteAddress:
  admin: false
  defaultTopicPerm: DENY
  defaultGroupPerm: SUB
  topicPerms:
  - aclTopicPub=PUB
  - aclTopicSub=SUB
  - aclTopicDeny=DENY
  - aclTopicAll=PUB|SUB
  groupPerms:
  - aclGroupDeny=DENY
  - aclGroupPub=PUB
- accessKey: defaultUser
  secretKey: '12345678'
  defaultTopicPerm: PUB|SUB
  defaultGroupPerm: DENY
- accessKey: whiteUser
  secretKey: '12345678'
  whiteRemoteAddress: 127.0.0.1
  defaultTopicPerm: DENY
- accessKey: rocketmq2
  secretKey: '12345678'
  admin: true
- accessKey: dupUser01
  secretKey: plainSecret1
  defaultTopicPerm: PUB
"""
# conf/acl/: read before the default file, so its dupUser01 is the one that counts
TEAM_ACL = """\
accounts:
- accessKey: dirUser01
  secretKey: '12345678'
  defaultTopicPerm: PUB
- accessKey: dupUser01
  secretKey: teamSecret1
  defaultTopicPerm: PUB
"""
TOOLS = "accessKey: rocketmq2\nsecretKey: '12345678'\n"

RIGHT = {"ak": "RocketMQ", "sk": "12345678"}
WRONG = {"ak": "RocketMQ", "sk": "wrongSecret"}
UNKNOWN = {"ak": "nobodyKey", "sk": "12345678"}
NONE: dict[str, str] = {}
ADMIN = {"ak": "rocketmq2", "sk": "12345678"}
DEFAULT = {"ak": "defaultUser", "sk": "12345678"}
WHITE = {"ak": "whiteUser", "sk": "bad-secret"}
CREDS = {"right": RIGHT, "wrong": WRONG, "unknown": UNKNOWN, "none": NONE}
TOPICS = ["aclTopicPub", "aclTopicSub", "aclTopicDeny", "aclTopicAll", "plainTopic"]


def acl_home(workdir: Path) -> Path:
    """A private ROCKETMQ_HOME: the reference logback files, plain_acl.yml and tools.yml."""
    home = workdir / "home"
    (home / "conf").mkdir(parents=True, exist_ok=True)
    for xml in (REFERENCE_DIR / "conf").glob("logback_*.xml"):
        shutil.copy(xml, home / "conf" / xml.name)
    (home / "conf" / "plain_acl.yml").write_text(PLAIN_ACL)
    (home / "conf" / "acl").mkdir(exist_ok=True)
    (home / "conf" / "acl" / "team.yml").write_text(TEAM_ACL)
    (home / "conf" / "tools.yml").write_text(TOOLS)
    return home


def _send_v2(topic: str, group: str = "aclProducer", properties: str = "TAGS\u0001TagA\u0002") -> dict[str, str]:
    return {
        "a": group,
        "b": topic,
        "c": "TBW102",
        "d": "4",
        "e": "0",
        "f": "0",
        "g": "1700000000000",
        "h": "0",
        "i": properties,
        "j": "0",
        "k": "false",
        "m": "false",
    }


def _pull(topic: str, group: str) -> dict[str, str]:
    return {
        "consumerGroup": group,
        "topic": topic,
        "queueId": "0",
        "queueOffset": "0",
        "maxMsgNums": "1",
        "sysFlag": "0",
        "commitOffset": "0",
        "suspendTimeoutMillis": "0",
        "subscription": "*",
        "subVersion": "0",
        "expressionType": "TAG",
    }


def _heartbeat(group: str, topic: str) -> str:
    sub = {"topic": topic, "subString": "*", "classFilterMode": False, "tagsSet": [], "codeSet": [], "subVersion": 0}
    consumer = {
        "groupName": group,
        "consumeType": "CONSUME_PASSIVELY",
        "messageModel": "CLUSTERING",
        "consumeFromWhere": "CONSUME_FROM_LAST_OFFSET",
        "subscriptionDataSet": [sub],
        "unitMode": False,
    }
    return json.dumps({"clientID": "acl-client", "consumerDataSet": [consumer], "producerDataSet": []})


def _create_topic(topic: str) -> dict[str, str]:
    return {
        "topic": topic,
        "defaultTopic": "TBW102",
        "readQueueNums": "4",
        "writeQueueNums": "4",
        "perm": "6",
        "topicFilterType": "SINGLE_TAG",
        "topicSysFlag": "0",
        "order": "false",
    }


def matrix_steps(broker: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []

    def raw(name: str, creds: dict[str, str], code: int, ext: dict[str, str] | None, **kw: Any) -> None:
        steps.append({"name": name, "op": "raw", "addr": broker, "code": code, "ext": ext, **creds, **kw})

    for topic in TOPICS:
        raw(f"admin creates {topic}", ADMIN, 17, _create_topic(topic))
    for who, creds in CREDS.items():
        for topic in ["aclTopicPub", "aclTopicSub", "aclTopicDeny", "aclTopicAll", "plainTopic"]:
            raw(f"{who} send {topic}", creds, 310, _send_v2(topic), body="hello")
            raw(f"{who} pull {topic}", creds, 11, _pull(topic, "aclGroupOk"))
        raw(f"{who} GET_BROKER_CONFIG", creds, 26, {})
        raw(f"{who} GET_ALL_TOPIC_CONFIG", creds, 21, {})
        raw(f"{who} UPDATE_AND_CREATE_TOPIC", creds, 17, _create_topic("byNonAdmin"))
        raw(f"{who} DELETE_TOPIC_IN_BROKER", creds, 215, {"topic": "plainTopic"})
        raw(f"{who} UPDATE_BROKER_CONFIG", creds, 25, {}, body="brokerPermission=6\n")
        raw(f"{who} UPDATE_AND_CREATE_SUBSCRIPTIONGROUP", creds, 200, {}, body='{"groupName":"g"}')
        raw(f"{who} DELETE_SUBSCRIPTIONGROUP", creds, 207, {"groupName": "aclGroupOk"})
        raw(f"{who} delete acl", creds, 51, {"accessKey": "doesNotExist"})
        raw(f"{who} acl versions", creds, 52, {}, withExt=True)
        raw(f"{who} white addrs without a file", creds, 53, {"globalWhiteAddrs": "1.1.1.1"})
        raw(f"{who} GET_BROKER_CLUSTER_ACL_CONFIG (54)", creds, 54, {})
        raw(f"{who} unknown code", creds, 9999, {})
    # groups, retry topics (checked through their group), heartbeats, offsets
    raw("right send to %RETRY%aclGroupDeny", RIGHT, 310, _send_v2("%RETRY%aclGroupDeny", "aclGroupDeny"), body="x")
    raw("right send to %RETRY%aclGroupPub", RIGHT, 310, _send_v2("%RETRY%aclGroupPub", "aclGroupPub"), body="x")
    raw("right send back aclGroupDeny", RIGHT, 36, {"offset": "0", "group": "aclGroupDeny", "delayLevel": "0"})
    raw("right pull aclTopicSub aclGroupDeny", RIGHT, 11, _pull("aclTopicSub", "aclGroupDeny"))
    raw("right pull aclTopicSub aclGroupPub", RIGHT, 11, _pull("aclTopicSub", "aclGroupPub"))
    raw("right heartbeat aclGroupDeny", RIGHT, 34, {}, body=_heartbeat("aclGroupDeny", "aclTopicSub"))
    raw("right heartbeat aclTopicDeny", RIGHT, 34, {}, body=_heartbeat("aclGroupOk", "aclTopicDeny"))
    raw("right heartbeat allowed", RIGHT, 34, {}, body=_heartbeat("aclGroupOk", "aclTopicSub"))
    raw("none heartbeat", NONE, 34, {}, body=_heartbeat("aclGroupOk", "aclTopicSub"))
    offset = {"consumerGroup": "aclGroupDeny", "topic": "aclTopicSub", "queueId": "0", "commitOffset": "0"}
    raw("right offset aclGroupDeny", RIGHT, 15, offset)
    raw("right offset aclTopicDeny", RIGHT, 15, {**offset, "consumerGroup": "aclGroupOk", "topic": "aclTopicDeny"})
    raw("right consumer list aclGroupDeny", RIGHT, 38, {"consumerGroup": "aclGroupDeny"})
    raw(
        "right query aclTopicDeny",
        RIGHT,
        12,
        {"topic": "aclTopicDeny", "key": "k", "maxNum": "1", "beginTimestamp": "0", "endTimestamp": "1"},
    )
    # default perms, admin, per-account white address, the trace topic
    raw("default send plainTopic", DEFAULT, 310, _send_v2("plainTopic"), body="hello")
    raw("default pull plainTopic", DEFAULT, 11, _pull("plainTopic", "anyGroup"))
    raw("admin send aclTopicDeny", ADMIN, 310, _send_v2("aclTopicDeny"), body="hello")
    raw("white user, bad secret, denied topic", WHITE, 310, _send_v2("aclTopicDeny"), body="hello")
    raw("right send trace topic", RIGHT, 310, _send_v2("RMQ_SYS_TRACE_TOPIC"), body="trace")
    # an empty field: fine in JSON; a ROCKETMQ header carries it as a null, which Java's signature check reads as "null"
    raw("right send with an empty field", RIGHT, 310, _send_v2("aclTopicPub", properties=""), body="x")
    # accounts of conf/acl/team.yml; a key in two files belongs to the first file read
    raw("conf/acl user send", {"ak": "dirUser01", "sk": "12345678"}, 310, _send_v2("plainTopic"), body="x")
    raw("duplicate key, team secret", {"ak": "dupUser01", "sk": "teamSecret1"}, 310, _send_v2("plainTopic"), body="x")
    raw("duplicate key, plain secret", {"ak": "dupUser01", "sk": "plainSecret1"}, 310, _send_v2("plainTopic"), body="x")
    # real clients: a producer with and without credentials
    steps.append(
        {"name": "producer with credentials", "op": "send", "group": "aclProducer", "topic": "aclTopicPub", **RIGHT}
    )
    steps.append(
        {"name": "producer without credentials", "op": "send", "group": "aclProducer2", "topic": "aclTopicPub"}
    )
    return steps


_LINE = re.compile(r"(PlainPermissionManager\.java:)(\d+)")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_COST = re.compile(r"cost \[\d+\]ms")
_IDENTITY = re.compile(r"(PlainAccessConfig)@[0-9a-f]+")  # Object.toString's identity hash: an id


def _versions(ext: dict[str, str] | None) -> Any:
    """GET_BROKER_CLUSTER_ACL_INFO's header: data versions with their timestamps left out."""
    if ext is None:
        return None
    out: dict[str, Any] = dict(ext)
    for key in ("version", "allAclFileVersion"):
        if out.get(key):
            parsed = json.loads(out[key])
            if "counter" in parsed:
                parsed = {"counter": parsed["counter"]}
            else:
                parsed = {path: {"counter": v["counter"]} for path, v in parsed.items()}
            out[key] = parsed
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = _IDENTITY.sub(r"\1@<id>", _COST.sub("cost [<ms>]ms", _TIME.sub("<time>", value)))
        return re.sub(r" {2,}", "  ", value)
    if isinstance(value, dict):
        out = {k: (_versions(v) if k == "ext" else _clean(v)) for k, v in value.items()}
        if out.get("argv", [None])[0] == "clusterAclConfigVersion":
            # one line per ACL file, in the order of a HashMap keyed by the (temporary) paths: sorted here
            out["stdout"] = sorted(out["stdout"].splitlines())
        return out
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _run_steps(
    env: InteropEnv, home: Path, steps: list[dict[str, Any]], label: str, serialize_type: str | None = None
) -> list[Any]:
    drv = env.driver_home(f"acl-{label}")
    drv.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=drv, delete=False) as f:
        json.dump(steps, f)
    args = {"namesrv": env.namesrv.addr, "steps": f.name}
    run = run_driver(env.build, "acl", args, drv, serialize_type, rocketmq_home=home)
    normalise = env.normaliser()
    normalise.add_path(str(home), "acl-home")
    observed: list[Any] = _clean(normalise(run.observations))
    return observed


def matrix(env: InteropEnv, home: Path) -> dict[str, list[Any]]:
    """The matrix with JSON headers, then the same requests with ROCKETMQ (binary) headers."""
    assert env.broker is not None
    steps = matrix_steps(env.broker.addr)
    return {
        "JSON": _run_steps(env, home, steps, "matrix-json"),
        "ROCKETMQ": _run_steps(env, home, steps, "matrix-rocketmq", "ROCKETMQ"),
    }


def _acl_file(home: Path) -> Any:
    data = yaml.safe_load((home / "conf" / "plain_acl.yml").read_text())
    for version in data.get("dataVersion") or []:
        version["timestamp"] = "<ts>"
    return data


def admin_and_reload(env: InteropEnv, home: Path) -> dict[str, Any]:
    """mqadmin's ACL commands and what they leave in plain_acl.yml; then a hand edit and a global white address,
    both of which take effect without a restart (polled: Java's watcher looks every 5 s)."""
    assert env.broker is not None
    b = env.broker.addr
    out: dict[str, Any] = {}
    new_user = {"ak": "newUser01", "sk": "newSecret01"}
    steps: list[dict[str, Any]] = [
        {
            "name": "updateAclConfig",
            "op": "mqadmin",
            "argv": [
                "updateAclConfig",
                "-b",
                b,
                "-a",
                "newUser01",
                "-s",
                "newSecret01",
                "-t",
                "aclTopicPub=SUB,newTopic=PUB",
                "-g",
                "aclGroupDeny=SUB",
                "-i",
                "DENY",
                "-u",
                "SUB",
                "-m",
                "false",
            ],
        },
        {
            "name": "new user pulls aclTopicPub",
            "op": "raw",
            "addr": b,
            "code": 11,
            "ext": _pull("aclTopicPub", "aclGroupDeny"),
            **new_user,
        },
        {
            "name": "new user sends aclTopicPub",
            "op": "raw",
            "addr": b,
            "code": 310,
            "ext": _send_v2("aclTopicPub"),
            "body": "x",
            **new_user,
        },
        {
            "name": "update RocketMQ",
            "op": "mqadmin",
            "argv": [
                "updateAclConfig",
                "-b",
                b,
                "-a",
                "RocketMQ",
                "-s",
                "12345678",
                "-t",
                "aclTopicDeny=PUB",
                "-m",
                "false",
            ],
        },
        {
            "name": "bad perm",
            "op": "mqadmin",
            "argv": ["updateAclConfig", "-b", b, "-a", "badUser01", "-s", "12345678", "-t", "aclTopicDeny=ALL"],
        },
        {"name": "short key", "op": "mqadmin", "argv": ["updateAclConfig", "-b", b, "-a", "short", "-s", "12345678"]},
        {"name": "clusterAclConfigVersion", "op": "mqadmin", "argv": ["clusterAclConfigVersion", "-b", b]},
    ]
    out["update"] = _run_steps(env, home, steps, "update")
    out["file after update"] = _acl_file(home)
    steps = [
        {"name": "deleteAclConfig", "op": "mqadmin", "argv": ["deleteAclConfig", "-b", b, "-a", "newUser01"]},
        {"name": "deleted user", "op": "raw", "addr": b, "code": 26, "ext": {}, **new_user},
        {"name": "delete again", "op": "mqadmin", "argv": ["deleteAclConfig", "-b", b, "-a", "newUser01"]},
    ]
    out["delete"] = _run_steps(env, home, steps, "delete")
    out["file after delete"] = _acl_file(home)
    # a hand edit of the file: a new account, and RocketMQ gone
    path = home / "conf" / "plain_acl.yml"
    data = yaml.safe_load(path.read_text())
    data["accounts"] = [a for a in data["accounts"] if a["accessKey"] != "RocketMQ"]
    data["accounts"].append({"accessKey": "hotUser01", "secretKey": "12345678", "defaultTopicPerm": "PUB"})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    hot = {"ak": "hotUser01", "sk": "12345678"}
    steps = [
        {
            "name": "hot user (poll)",
            "op": "raw",
            "addr": b,
            "code": 310,
            "ext": _send_v2("plainTopic"),
            "body": "x",
            "untilCode": 0,
            "timeoutMs": 20000,
            **hot,
        },
        {"name": "removed account", "op": "raw", "addr": b, "code": 26, "ext": {}, **RIGHT},
        {
            "name": "updateGlobalWhiteAddr",
            "op": "mqadmin",
            "argv": ["updateGlobalWhiteAddr", "-b", b, "-g", "10.10.103.*,127.0.0.1"],
        },
        {
            "name": "no key from a white address (poll)",
            "op": "raw",
            "addr": b,
            "code": 26,
            "ext": {},
            "untilCode": 0,
            "timeoutMs": 20000,
        },
    ]
    out["reload"] = _run_steps(env, home, steps, "reload")
    out["file after white addrs"] = _acl_file(home)
    # one more file under conf/acl/: a changed number of files reloads them all
    (home / "conf" / "acl" / "later.yml").write_text("accounts:\n- accessKey: laterUser1\n  secretKey: '12345678'\n")
    later = {"ak": "laterUser1", "sk": "12345678"}
    steps = [
        {
            "name": "user of a new file (poll)",
            "op": "raw",
            "addr": b,
            "code": 26,
            "ext": {},
            "untilCode": 0,
            "timeoutMs": 20000,
            **later,
        },
        {"name": "removed account after a full reload", "op": "raw", "addr": b, "code": 26, "ext": {}, **RIGHT},
        {"name": "clusterAclConfigVersion", "op": "mqadmin", "argv": ["clusterAclConfigVersion", "-b", b]},
    ]
    out["new file"] = _run_steps(env, home, steps, "new-file")
    return out


def as_4_9_8(java_4_9_7: Any) -> Any:
    """The 4.9.7 reference -> pinned 4.9.8: PlainPermissionManager.java gained one line above validate/checkPerm,
    and GET_BROKER_CLUSTER_ACL_CONFIG (54), which answered every account with its secret key, was removed
    (CVE-2024-23321): 4.9.8 answers it as an unknown code once the ACL hook let it through."""
    if isinstance(java_4_9_7, list):
        return [as_4_9_8(v) for v in java_4_9_7]
    if isinstance(java_4_9_7, dict):
        out = {k: as_4_9_8(v) for k, v in java_4_9_7.items()}
        name = out.get("name")
        result = out.get("result")
        if isinstance(name, str) and "(54)" in name and isinstance(result, dict) and result.get("code") == 0:
            out["result"] = {"code": 3, "remark": " request type 54 not supported"}
        return out
    if isinstance(java_4_9_7, str):
        return _LINE.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + 1}", java_4_9_7)
    return java_4_9_7
