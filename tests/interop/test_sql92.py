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
from rocketpy.filter import compile_sql92
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


def _run(env: InteropEnv, good: list[str], bad: list[str]) -> dict[str, Any]:
    spec = env.workdir / f"sql92-spec-{len(good)}-{len(bad)}.json"
    spec.write_text(json.dumps({"messages": MESSAGES, "good": good, "bad": bad}))
    run = run_driver(
        env.build,
        "sql92",
        {"namesrv": env.namesrv.addr, "topic": TOPIC, "spec": str(spec)},
        env.driver_home("sql92"),
        timeout=300.0,
    )
    observed: dict[str, Any] = env.normaliser()(run.observations)
    return observed


def filtering(env: InteropEnv) -> dict[str, Any]:
    if env.broker is None:  # the on-demand Java baseline: a broker like the module's
        env.start_broker(conf_extra=PROPERTY_FILTER)
    return _run(env, GOOD, BAD)


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
