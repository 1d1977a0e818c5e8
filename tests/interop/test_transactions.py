"""Transactional messages (issue 7), against the Java 4.9.7 reference and rocketpy, observations compared.

- A TransactionMQProducer (4.9.8 client): COMMIT is delivered, ROLLBACK never; UNKNOW is resolved by the broker's
  check-back (CHECK_TRANSACTION_STATE) within transactionTimeOut + transactionCheckInterval; a producer that always
  answers UNKNOW is asked transactionCheckMax times, then the broker discards the message to
  TRANS_CHECK_MAX_TIME_TOPIC; RESUME_CHECK_HALF_MESSAGE (the admin API) puts it back for as many checks again;
  after UPDATE_BROKER_CONFIG rejectTransactionMessage=true a transactional send is refused (NO_PERMISSION).
  Every check-back message (real topic, TRANSACTION_CHECK_TIMES, properties) and every
  delivered message is compared field by field.
- Store compatibility: unresolved half messages written by one broker (whose transactionTimeOut keeps them
  unchecked), stopped cleanly; the other broker opens the store, checks them back and delivers the committed one
  exactly once, the rolled back one never. All four writer/reader pairs.

Short broker.conf values keep it to seconds: transactionCheckInterval=1000, transactionTimeOut=1000.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from interop.harness.environment import TARGETS, InteropEnv, environment
from interop.harness.raw_client import RawConnection, describe
from rocketpy.protocol.transaction_headers import COMMIT_OR_ROLLBACK_WRONG
from tests.interop import broker_scenarios as bs
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop

CHECK_MAX = 3
INTERVAL_MS = TIMEOUT_MS = 1000
CONF = {
    "transactionCheckInterval": str(INTERVAL_MS),
    "transactionTimeOut": str(TIMEOUT_MS),
    "transactionCheckMax": str(CHECK_MAX),
}
WRITE_CONF = {"transactionCheckInterval": str(INTERVAL_MS), "transactionTimeOut": "3600000"}
# The reader's checks start before the driver's producer is up; those are counted (Java does too), so a high
# transactionCheckMax keeps the message from being discarded meanwhile.
READ_CONF = {**CONF, "transactionCheckMax": "1000"}
RESUME_ERROR = "Exception was thrown when putting message back to RMQ_SYS_TRANS_HALF_TOPIC."


def _transactions(env: InteropEnv) -> tuple[dict[str, Any], dict[str, Any]]:
    """(observations compared across targets, timings checked against bounds)."""
    env.broker_kind = env.kind
    env.start_broker(conf_extra=CONF)
    obs: dict[str, Any] = bs._run(env, "transactions", {"check-max": str(CHECK_MAX), "quiet-ms": "3000"})
    timings: dict[str, Any] = obs.pop("timings")
    obs["raw"] = _raw_probes(env.brokers["broker"].addr)
    return obs, timings


def _raw_probes(addr: str) -> dict[str, Any]:
    """END_TRANSACTION / RESUME_CHECK_HALF_MESSAGE sent as requests (clients send END_TRANSACTION oneway, so only a
    hand-built frame sees these answers); commit-log offset 0 holds the scenario's first half message."""
    end = {"producerGroup": "interop_tx_producer", "tranStateTableOffset": "0", "commitLogOffset": "0",
           "commitOrRollback": "8", "msgId": "0", "fromTransactionCheck": "false"}  # fmt: skip
    probes = {
        "noHalfMessage": (37, {**end, "commitLogOffset": str(2**40)}),
        "wrongGroup": (37, {**end, "producerGroup": "other_group"}),
        "wrongQueueOffset": (37, {**end, "tranStateTableOffset": "7"}),
        "pendingHasNoAnswer": (37, {**end, "commitOrRollback": "0"}),
        "badCommitOrRollback": (37, {**end, "commitOrRollback": "3"}),
        "resumeNoMessageId": (323, {"msgId": "nonsense"}),
        "resumeNoMessage": (323, {"msgId": "7F0000010000000100000FFFFFFFFFFF"}),
    }
    out: dict[str, Any] = {}
    conn = RawConnection(addr)
    try:
        for name, (code, ext) in probes.items():
            frame = conn.call(code, ext, wait=3.0 if name == "pendingHasNoAnswer" else 10.0)
            answer = describe(frame)
            out[name] = None if frame is None else {"code": answer["code"], "remark": answer["remark"]}
    finally:
        conn.close()
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_transaction_producer_commit_rollback_check_back_and_discard(
    target: str, tmp_path: Path, interop_build: Any, baseline: JavaBaseline
) -> None:
    with environment(interop_build, target, tmp_path / target, with_broker=False) as env:
        obs, timings = _transactions(env)
    baseline.check("transactions", env, obs, lambda e: _transactions(e)[0], with_broker=False)

    assert obs["waits"] == {"checkedOut": True, "delivered": True, "discarded": True}
    states = {k: (v["sendStatus"], v["localTransactionState"]) for k, v in obs["sends"].items()}
    assert states == {
        "commit-1": ("SEND_OK", "COMMIT_MESSAGE"),
        "commit-2": ("SEND_OK", "COMMIT_MESSAGE"),
        "rollback": ("SEND_OK", "ROLLBACK_MESSAGE"),
        "check-commit": ("SEND_OK", "UNKNOW"),
        "check-rollback": ("SEND_OK", "UNKNOW"),
        "never": ("SEND_OK", "UNKNOW"),
    }
    assert {k: len(v) for k, v in obs["received"].items()} == {"check-commit": 1, "commit-1": 1, "commit-2": 1}
    for key, [msg] in obs["received"].items():
        assert (msg["topic"], msg["body"], msg["sysFlag"] & 0xC) == ("InteropTxTopic", f"tx-{key}", 0x8)
        assert msg["properties"]["TRAN_MSG"] == "true" and msg["properties"]["PGROUP"] == "interop_tx_producer"
        assert msg["flag"] == (0 if key.startswith("check") else 5)  # a checked half message was written again
    # "never" is discarded after CHECK_MAX checks, resumed (RESUME_CHECK_HALF_MESSAGE), checked and discarded again
    assert obs["resume"] == {
        "foundByKey": 1,
        "resumed": True,
        "checkedAgain": True,
        "discardedAgain": True,
        "resumeOfNoMessageId": False,
    }
    assert obs["checkCounts"] == {"check-commit": 1, "check-rollback": 1, "never": 2 * CHECK_MAX}
    times = [m["properties"]["TRANSACTION_CHECK_TIMES"] for m in obs["checks"]["never"]]
    assert times == [str(n) for n in range(1, CHECK_MAX + 1)] * 2
    assert all(m["topic"] == "InteropTxTopic" for ms in obs["checks"].values() for m in ms)
    assert obs["topicStats"]["TRANS_CHECK_MAX_TIME_TOPIC"]["broker-a/0"]["maxOffset"] == 2
    # 6 half messages, one rewrite per check (1 + 1 + CHECK_MAX), the resumed one and its CHECK_MAX rewrites
    assert obs["topicStats"]["RMQ_SYS_TRANS_HALF_TOPIC"]["broker-a/0"]["maxOffset"] == 6 + 2 + CHECK_MAX + 1 + CHECK_MAX
    refused = obs["rejected"]["error"]
    assert (refused["responseCode"], refused["errorMessage"]) == (
        16,
        "the broker[127.0.0.1] sending transaction message is forbidden",
    ), obs["rejected"]  # rejectTransactionMessage=true (UPDATE_BROKER_CONFIG) refuses with NO_PERMISSION
    assert obs["raw"] == {
        "noHalfMessage": {"code": 1, "remark": "Find prepared transaction message failed"},
        "wrongGroup": {"code": 1, "remark": "The producer group wrong"},
        "wrongQueueOffset": {"code": 1, "remark": "The transaction state table offset wrong"},
        "pendingHasNoAnswer": None,
        "badCommitOrRollback": {"code": 1, "remark": COMMIT_OR_ROLLBACK_WRONG},
        "resumeNoMessageId": {"code": 1, "remark": RESUME_ERROR},
        "resumeNoMessage": {"code": 1, "remark": RESUME_ERROR},
    }
    delay = timings["checkCommitDeliveredAfterMs"]
    assert TIMEOUT_MS <= delay <= TIMEOUT_MS + 2 * INTERVAL_MS + 4000, f"{target}: check-back delivery took {delay} ms"


def _write_then_read(build: Any, writer: str, reader: str, workdir: Path) -> dict[str, Any]:
    with environment(build, writer, workdir / f"write-{writer}", with_broker=False) as wenv:
        wenv.broker_kind = writer
        wenv.start_broker(conf_extra=WRITE_CONF)
        written = bs._run(wenv, "tx-store-write", {})
        wenv.stop_broker("broker", grace=60)  # SIGTERM: a clean shutdown
        store = wenv.workdir / "broker" / "store"
        port = int(wenv.brokers["broker"].addr.rsplit(":", 1)[1])
    with environment(build, reader, workdir / f"read-{reader}", with_broker=False) as renv:
        renv.broker_kind = reader
        renv.start_broker(store_root=str(store), port=port, conf_extra=READ_CONF)
        read = bs._run(renv, "tx-store-read", {"quiet-ms": "2500"})
    return {"written": written, "read": read}


@pytest.mark.parametrize("writer", TARGETS)
@pytest.mark.parametrize("reader", TARGETS)
def test_unresolved_half_message_moves_with_the_store(
    writer: str, reader: str, tmp_path: Path, interop_build: Any, baseline: JavaBaseline
) -> None:
    obs = _write_then_read(interop_build, writer, reader, tmp_path)
    kind = "java" if writer == reader == "java" else f"{writer}-writes-{reader}-reads"

    def reference(_env: Any) -> dict[str, Any]:
        return _write_then_read(interop_build, "java", "java", tmp_path / "reference")

    class _Env:  # what baseline.check needs of an environment when the reference is run on demand
        pass

    baseline.check("tx_store_compat", _Env(), obs, reference, with_broker=False, kind=kind)  # type: ignore[arg-type]

    sends = obs["written"]["sends"]
    assert {k: v["localTransactionState"] for k, v in sends.items()} == {
        "stored-commit": "UNKNOW",
        "stored-rollback": "UNKNOW",
    }
    assert obs["written"]["checkCounts"] == {}
    read = obs["read"]
    assert read["resolved"] is True
    assert read["checked"] == {"stored-commit": True, "stored-rollback": True}
    assert list(read["received"]) == ["stored-commit"] and len(read["received"]["stored-commit"]) == 1
    [msg] = read["received"]["stored-commit"]
    assert (msg["topic"], msg["body"], msg["sysFlag"] & 0xC) == ("InteropTxStoreTopic", "tx-stored-commit", 0x8)
