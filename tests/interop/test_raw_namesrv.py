"""⇄ Byte-level NameServer probes (no Java client in between): remarks, extFields, body contents and formatting,
and whether an answer comes at all, in both serialisations. The broker state is the golden REGISTER_BROKER replayed.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from interop.harness.environment import InteropEnv
from tests.interop import raw_probe
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop

SERIALIZATIONS = ("JSON", "ROCKETMQ")


def _check_protocol(obs: dict[str, Any], kind: str) -> None:
    for st in SERIALIZATIONS:
        view = functools.partial(lambda label, st: obs[f"{st}:{label}"], st=st)
        for label, answer in obs.items():
            if label.startswith(st) and answer.get("response", True) is not None:
                assert answer["serializeType"] == st and answer["flag"] == 1, f"{label}: answered in kind"
        assert view("register")["code"] == 0
        route = view("routeKnown")
        assert route["code"] == 0 and route["body"]["queueDatas"][0]["brokerName"] == "broker-a"
        assert view("routeStandardJson")["bodyHasBareIntKeys"] is False, "acceptStandardJsonOnly=true"
        assert view("routeUnknown")["code"] == 17
        assert view("kvGet")["extFields"] == {"value": "v"}
        assert view("kvGetMissing")["code"] == 22
        assert view("updateConfigRefused")["code"] == 16
        assert view("queryDataVersion")["extFields"] == {"changed": "false"}
        assert (
            view("wipeWritePerm")["extFields"]["wipeTopicCount"] == view("addWritePerm")["extFields"]["addTopicCount"]
        )
        assert view("routeDeleted")["code"] == 17
        assert view("clusterInfoAfterUnregister")["body"] == {"brokerAddrTable": {}, "clusterAddrTable": {}}
        if kind == "java":
            assert view("unknownCode") == {"response": None}, "the Java NameServer does not answer unknown codes"


def test_raw_namesrv_protocol(interop_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = raw_probe.raw_namesrv(interop_env)
    baseline.check("raw_namesrv", interop_env, obs, raw_probe.raw_namesrv, raw_probe.raw_as_pinned)
    _check_protocol(obs, interop_env.kind)


def test_raw_namesrv_missing_header_fields(interop_env: InteropEnv, baseline: JavaBaseline) -> None:
    """The Java reference decodes a header with a missing @CFNotNull field as null and carries on (the check in
    RemotingCommand.decodeCommandCustomHeader throws inside a per-field try/catch that only logs)."""
    scenario = functools.partial(raw_probe.raw_namesrv, probe_set="missing-fields")
    obs = scenario(interop_env)
    baseline.check("raw_missing_fields", interop_env, obs, scenario, raw_probe.raw_missing_fields_as_pinned)
    if interop_env.kind == "java":
        for st in SERIALIZATIONS:
            assert obs[f"{st}:routeEmptyExt"]["code"] == 17
            assert "the topic: null" in obs[f"{st}:routeEmptyExt"]["remark"]
            assert obs[f"{st}:kvPutNoValue"]["code"] == 0
