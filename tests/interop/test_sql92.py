"""⇄ SQL92 message filtering (issue 7): 4.9.8 push consumers subscribed with MessageSelector.bySql against the Java
4.9.7 broker and against rocketpy, both with enablePropertyFilter=true (one boot per target for the module), and a
broker without it.

Thirty messages carry typed properties (int, negative, beyond int32, double, strings with a quote, booleans in two
cases, an optional one, one that is sometimes not a number); each good expression gets its own consumer group and
the bodies it received are compared; each bad expression must make consumer.start() fail in CHECK_CLIENT_CONFIG
with Java's code and parser message. The deliveries are also checked against rocketpy.filter's evaluator, so the
Java run validates the pure evaluator too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.harness.driver import run_driver
from interop.harness.environment import TARGETS, InteropEnv, environment
from interop.harness.raw_client import RawConnection, describe
from rocketpy.filter import compile_sql92
from rocketpy.store.format import decode_records
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop

TOPIC = "InteropSqlTopic"
PROPERTY_FILTER = {"enablePropertyFilter": "true"}
COUNT = 30
TAGS = ("TagA", "TagB", "TagC")


def message(i: int) -> dict[str, Any]:
    props = {
        "i": str(i),
        "neg": str(-i),
        "lng": str(3_000_000_000 + i),
        "dbl": f"{i}.5",
        "str": ("alpha", "beta", "gamma", "it's")[i % 4],
        "flag": ("true", "false", "TRUE")[i % 3],
        "mixed": ("5", "abc", "5.0", "-7", " 7")[i % 5],
    }
    if i % 5 == 0:
        props["opt"] = "x"
    return {"tags": TAGS[i % 3], "properties": props}


MESSAGES = [message(i) for i in range(COUNT)]

GOOD = [
    "i > 10",
    "i >= 10 AND i < 15",
    "i BETWEEN 5 AND 8",
    "i NOT BETWEEN 5 AND 25",
    "neg < -20",
    "neg BETWEEN -5 AND -1",
    "lng > 3000000020",
    "lng = 3000000005",
    "i < 2147483648",
    "dbl > 10.5",
    "dbl = 3.5",
    "dbl BETWEEN 1.5 AND 4.5",
    "i > -1e1 AND i < 2",
    "i = 1.0",
    "- neg = 4",
    "str = 'alpha'",
    "str IN ('beta', 'gamma')",
    "str NOT IN ('alpha')",
    "str = 'it''s'",
    "flag = TRUE",
    "flag = FALSE",
    "flag",
    "opt IS NULL",
    "opt IS NOT NULL",
    "opt = 'x' OR i < 3",
    "missing > 1",
    "missing IS NULL AND i < 2",
    "NOT (i > 5)",
    "i <> 3 AND i < 6",
    "mixed = 5",
    "mixed > 1",
    "mixed > 1.5",
    "TAGS = 'TagA'",
    "TAGS IN ('TagA', 'TagC') AND i > 20",
    "(i > 25 OR str = 'beta') AND flag = TRUE",
    "TRUE",
    "i > 27 ) the parser stops here",
    "i LIKE 'a%'",
]

BAD = [
    "i >",
    "(i > 1",
    "i IS 1",
    "i == 1",
    "NOT i > 1",
    "i BETWEEN 5 AND 1",
    "i IN (1, 2)",
    "str = 'abc",
    "i # 1",
    "i > 99999999999999999999",
    "i > 0.0",
    "i = NULL",
    "TRUE = 1",
    "'x'",
]


def _run(env: InteropEnv, good: list[str], bad: list[str], topic: str = TOPIC) -> dict[str, Any]:
    spec = env.workdir / f"sql92-spec-{topic}-{len(good)}-{len(bad)}.json"
    spec.write_text(json.dumps({"messages": MESSAGES, "good": good, "bad": bad}))
    run = run_driver(
        env.build,
        "sql92",
        {"namesrv": env.namesrv.addr, "topic": topic, "spec": str(spec)},
        env.driver_home("sql92"),
        timeout=300.0,
    )
    observed: dict[str, Any] = env.normaliser()(run.observations)
    return observed


def filtering(env: InteropEnv) -> dict[str, Any]:
    if env.broker is None:  # the on-demand Java baseline: a broker like the module's
        env.start_broker(conf_extra=PROPERTY_FILTER)
    return _run(env, GOOD, BAD)


RAW_TOPIC, RAW_GROUP = "InteropSqlRawTopic", "interop_sql_raw"


def _subscription(expression: str | None, version: int, kind: str = "SQL92") -> dict[str, Any]:
    sub: dict[str, Any] = {"classFilterMode": False, "codeSet": [], "expressionType": kind, "subVersion": version}
    sub.update({"tagsSet": [], "topic": RAW_TOPIC})
    if expression is not None:
        sub["subString"] = expression
    return sub


def _heartbeat(expression: str, version: int, kind: str = "SQL92") -> bytes:
    consumer = {"consumeFromWhere": "CONSUME_FROM_FIRST_OFFSET", "consumeType": "CONSUME_PASSIVELY"}
    consumer.update({"groupName": RAW_GROUP, "messageModel": "CLUSTERING", "unitMode": False})
    consumer["subscriptionDataSet"] = [_subscription(expression, version, kind)]  # type: ignore[assignment]
    return json.dumps({"clientID": "127.0.0.1@raw", "consumerDataSet": [consumer], "producerDataSet": []}).encode()


def _pull(expression: str | None, version: int, flag: bool) -> dict[str, str]:
    ext = {"consumerGroup": RAW_GROUP, "topic": RAW_TOPIC, "queueId": "0", "queueOffset": "0", "maxMsgNums": "32"}
    ext.update({"sysFlag": "4" if flag else "0", "commitOffset": "0", "suspendTimeoutMillis": "0"})
    ext.update({"subVersion": str(version), "expressionType": "SQL92"})
    if expression is not None:
        ext["subscription"] = expression
    return ext


def raw_probe(env: InteropEnv) -> dict[str, Any]:
    """Hand-built HEART_BEAT, PULL_MESSAGE and CHECK_CLIENT_CONFIG frames: what no Java client call exposes."""
    if env.broker is None:
        env.start_broker(conf_extra=PROPERTY_FILTER)
    assert env.broker is not None
    _run(env, [], [], RAW_TOPIC)  # the topic and its 30 messages (queue 0: the even ones)
    conn = RawConnection(env.broker.addr)
    out: dict[str, Any] = {}

    def call(name: str, code: int, ext: dict[str, str] | None = None, body: bytes = b"") -> None:
        frame = conn.call(code, ext, body)
        described = describe(frame)
        view = {key: described[key] for key in ("code", "remark", "extFields")}
        if frame is not None and code == 11 and view["code"] == 0:  # PULL_MESSAGE: the bodies found
            view["bodies"] = [m.body.decode() for m in decode_records(frame.raw[8 + frame.header_length :])]
        out[name] = view

    try:
        call("heartbeatBad", 34, None, _heartbeat("i >", 1))
        call("pullBad", 11, _pull(None, 1, flag=False))
        call("heartbeatGood", 34, None, _heartbeat("i > 20", 2))
        call("pullGood", 11, _pull(None, 2, flag=False))
        call("pullNewerVersion", 11, _pull(None, 3, flag=False))
        call("pullFlagGood", 11, _pull("i > 20", 2, flag=True))
        call("pullFlagBad", 11, _pull("i >", 2, flag=True))
        call("pullFlagEmpty", 11, _pull(None, 2, flag=True))
        for name, sub in (
            ("checkGood", _subscription("i > 1", 1)),
            ("checkBad", _subscription("i BETWEEN 2 AND 1", 1)),
            ("checkNoExpression", _subscription(None, 1)),
            ("checkUnknownType", _subscription("i > 1", 1, kind="XPATH")),
        ):
            body = json.dumps({"clientId": "127.0.0.1@raw", "group": RAW_GROUP, "subscriptionData": sub}).encode()
            call(name, 46, None, body)
        # a TAG subscription and a push consumer's everyday pull (rocketpy's fast paths): Java serves pulls on the
        # main port only, its VIP port (fastRemotingServer, listenPort - 2) has no pull processor
        call("heartbeatTag", 34, None, _heartbeat("*", 5, kind="TAG"))
        tag_pull = {**_pull("*", 5, flag=False), "expressionType": "TAG", "queueOffset": "1"}
        host, port = env.broker.addr.rsplit(":", 1)
        main = conn
        conn = RawConnection(f"{host}:{int(port) - 2}")
        try:
            call("pullTagVip", 11, tag_pull)
        finally:
            conn.close()
            conn = main
        call("pullTag", 11, tag_pull)
    finally:
        conn.close()
    for view in out.values():
        ext = view.get("extFields") or {}
        view["extFields"] = {k: v for k, v in ext.items() if k != "msgRegionId"} or None
    return out


def without_property_filter(env: InteropEnv) -> dict[str, Any]:
    return _run(env, ["i > 10"], ["i >"])


@pytest.fixture(scope="module", params=TARGETS)
def sql_env(
    request: pytest.FixtureRequest, interop_build: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InteropEnv]:
    """One NameServer + broker (enablePropertyFilter=true) per target, shared by this module's scenarios."""
    kind: str = request.param
    workdir: Path = tmp_path_factory.mktemp(f"sql92-{kind}")
    with environment(interop_build, kind, workdir, with_broker=False, broker_kind=kind) as env:
        env.start_broker(conf_extra=PROPERTY_FILTER)
        yield env


def expected_bodies(expression: str) -> list[str]:
    """What rocketpy.filter's evaluator selects from the stored properties (user properties and TAGS)."""
    compiled = compile_sql92(expression)
    return [f"m{i:02d}" for i, m in enumerate(MESSAGES) if compiled.matches({**m["properties"], "TAGS": m["tags"]})]


def test_sql92_deliveries_and_refusals(sql_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = filtering(sql_env)
    baseline.check("sql92", sql_env, obs, filtering, with_broker=False)

    assert obs["sends"] == {"SEND_OK": COUNT}
    delivered = obs["delivered"]
    assert delivered["complete"] is True and delivered["duplicates"] == 0 and delivered["startErrors"] == {}
    got = delivered["byExpression"]
    assert got["i > 10"] == [f"m{i:02d}" for i in range(11, COUNT)]
    assert got["TRUE"] == [f"m{i:02d}" for i in range(COUNT)]
    assert got["flag"] == got["missing > 1"] == got["i LIKE 'a%'"] == []  # a string is never TRUE; unknown
    assert got["i > 27 ) the parser stops here"] == ["m28", "m29"]
    for expression in GOOD:
        assert got[expression] == expected_bodies(expression), expression

    refused = obs["refused"]
    assert set(refused) == set(BAD)
    for expression, error in refused.items():
        assert error["class"] == "org.apache.rocketmq.client.exception.MQClientException", expression
        assert error["responseCode"] == 23, expression  # SUBSCRIPTION_PARSE_FAILED
        with pytest.raises(ValueError) as refusal:
            compile_sql92(expression)
        assert error["errorMessage"] == str(refusal.value), expression
    assert refused["NOT i > 1"]["errorMessage"] == "java.lang.RuntimeException: Value '(NOT i)' cannot be compared."


def test_sql92_on_a_broker_without_property_filter(broker_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = without_property_filter(broker_env)
    baseline.check("sql92-disabled", broker_env, obs, without_property_filter)

    refusal = {
        "class": "org.apache.rocketmq.client.exception.MQClientException",
        "responseCode": 1,
        "errorMessage": "The broker does not support consumer to filter message by SQL92",
    }
    # CHECK_CLIENT_CONFIG refuses any SQL92 subscription before compiling it: good or bad, start() fails
    assert obs["refused"] == {"i >": refusal}
    assert obs["delivered"]["startErrors"] == {"i > 10": refusal}
    assert obs["delivered"]["byExpression"] == {"i > 10": []}


def test_sql92_raw_heartbeat_pull_and_check(sql_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = raw_probe(sql_env)
    baseline.check("sql92-raw", sql_env, obs, raw_probe, with_broker=False)

    assert obs["heartbeatBad"]["code"] == 0  # a heartbeat is never refused for its expression
    assert (obs["pullBad"]["code"], obs["pullBad"]["remark"]) == (
        27,
        "The broker's consumer filter data is not exist!Your expression may be wrong!",
    )
    assert obs["pullGood"]["bodies"] == ["m22", "m24", "m26", "m28"]
    assert obs["pullNewerVersion"]["code"] == 25  # SUBSCRIPTION_NOT_LATEST comes before the filter data
    assert obs["pullFlagGood"]["bodies"] == ["m22", "m24", "m26", "m28"]
    assert obs["pullFlagBad"]["bodies"] == [f"m{i:02d}" for i in range(0, COUNT, 2)]  # nothing filtered
    assert obs["checkGood"]["code"] == 0 and obs["checkBad"]["code"] == 23
    assert (obs["pullTagVip"]["code"], obs["pullTagVip"]["remark"]) == (3, " request type 11 not supported")
    assert obs["pullTag"]["bodies"] == [f"m{i:02d}" for i in range(2, COUNT, 2)]
