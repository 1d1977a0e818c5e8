"""⇄ Broker messaging (issue 4): unmodified 4.9.8 clients against the Java 4.9.7 NameServer+Broker and against
rocketpy's; each scenario's observations must be equal."""

from __future__ import annotations

from typing import Any

import pytest

from interop.harness.environment import InteropEnv
from tests.interop import broker_scenarios as bs
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop


def test_send_modes_and_bulk_receive(broker_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = bs.send_receive(broker_env)
    baseline.check(f"send_receive-{bs.BULK}", broker_env, obs, bs.send_receive)

    sends = obs["featureSends"]
    for mode in ("sync", "compressed", "async"):
        assert sends[mode] == {"SEND_OK": 8}, mode
    assert sends["batch"] == "SEND_OK" and sends["batchMsgIds"] == 8
    assert obs["bulkSends"] == {"async:SEND_OK": bs.BULK // 2, "batch:SEND_OK": (bs.BULK - bs.BULK // 2 + 99) // 100}
    assert obs["allReceivedInTime"] is True
    assert obs["bulk"] == {"sent": bs.BULK, "missing": 0, "duplicates": 0}
    assert obs["featureDuplicates"] == 0 and obs["unexpectedMessages"] == 0
    features = obs["features"]
    assert len(features) == 40
    for ident, msg in features.items():
        _, mode, seq = ident.split("-")
        assert msg["tags"] == ("TagA" if int(seq) % 2 == 0 else "TagB")
        assert msg["keys"] == f"key-{mode}-{seq} alt-{seq}"
        assert msg["flag"] == int(seq)
        props = msg["properties"]
        assert (props["mode"], props["seq"], props["unicode"]) == (mode, seq, "h\u00e9llo-\u4e16\u754c")
        if mode == "compressed":
            assert msg["body"].endswith("intact=true>") and msg["bodyLength"] > 4096
            assert msg["sysFlag"] & 0x1, "a body over 4 KiB is stored compressed (COMPRESSED_FLAG)"
        else:
            assert msg["body"] == ident


def test_ordered_messages_two_orderly_consumers(broker_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = bs.ordered(broker_env)
    baseline.check("ordered", broker_env, obs, bs.ordered)

    assert obs["allocation"] == {"ordered-c1": [0, 1], "ordered-c2": [2, 3]}
    assert obs["sendStatuses"] == {"SEND_OK": 160}
    assert obs["queueOfOrder"] == {f"order-{i}": i % 4 for i in range(8)}
    assert obs["allReceivedInTime"] is True
    assert obs["perOrder"] == {f"order-{i}": {"received": 20, "inSendOrder": True} for i in range(8)}
    owner = obs["consumerOfOrderQueue"]
    assert owner == {f"{i}@q{i % 4}": "ordered-c1" if i % 4 < 2 else "ordered-c2" for i in range(8)}


def _phase_ok(obs: dict[str, Any], n: int) -> None:
    assert obs[f"phase{n}Sends"] == {"SEND_OK": 60}
    assert obs[f"phase{n}Complete"] is True
    assert obs[f"p{n}"] == {"missing": 0, "duplicates": 0}


def test_clustering_rebalance_leave_and_join(broker_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = bs.clustering(broker_env)
    baseline.check("clustering", broker_env, obs, bs.clustering)

    assert obs["allocationThree"] == {"cl-c1": [0, 1], "cl-c2": [2, 3], "cl-c3": [4, 5]}
    assert obs["allocationAfterLeave"] == {"cl-c1": [0, 1, 2], "cl-c2": [3, 4, 5]}
    assert obs["allocationAfterJoin"] == {"cl-c1": [0, 1], "cl-c2": [2, 3], "cl-c4": [4, 5]}
    for n in (1, 2, 3):
        _phase_ok(obs, n)


def test_broadcasting_each_consumer_gets_everything(broker_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = bs.broadcasting(broker_env)
    baseline.check("broadcasting", broker_env, obs, bs.broadcasting)

    assert obs["held"] == [[0, 1, 2, 3], [0, 1, 2, 3]]
    assert obs["sends"] == {"SEND_OK": 40} and obs["allComplete"] is True
    assert obs["bc-c1"] == obs["bc-c2"] == {"missing": 0, "duplicates": 0}


def test_tag_filter_delivers_only_subscribed_tags(broker_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = bs.tag_filter(broker_env)
    baseline.check("tag_filter", broker_env, obs, bs.tag_filter)

    cycle = ["TagA", "TagB", "TagC", None, "TagAB"]
    wanted = {f"tf-{i}": cycle[i % 5] for i in range(50) if cycle[i % 5] in ("TagA", "TagB")}
    assert obs["wantedComplete"] is True
    assert obs["received"] == wanted
    assert obs["duplicates"] == 0


def test_lite_pull_subscribe_assign_seek_commit(broker_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = bs.lite_pull(broker_env)
    baseline.check("lite_pull", broker_env, obs, bs.lite_pull)

    sub, assign = obs["subscribe"], obs["assign"]
    assert obs["sends"] == {"SEND_OK": 40}
    # A new group with the default CONSUME_FROM_LAST_OFFSET still starts at 0 while the queue's first message is
    # in memory (the broker answers QUERY_CONSUMER_OFFSET with 0, ConsumerManageProcessor).
    assert sub["offsets"] == {f"q{q}": list(range(10)) for q in range(4)}
    assert sub["bodies"] == sorted(f"lp-{i}" for i in range(40))
    assert sub["committed"] == {f"q{q}": 10 for q in range(4)}
    assert sub["consumeStats"] == {
        f"InteropLitePullTopic/broker-a/{q}": {"brokerOffset": 10, "consumerOffset": 10} for q in range(4)
    }
    assert assign["queues"] == 4
    assert assign["offsets"] == {"q0": list(range(5, 10)), "q1": list(range(10)), "q3": list(range(2, 10))}
    assert assign["committed"] == {f"q{q}": 10 for q in range(4)}
    assert assign["consumeStatsAfterCommit"] == {
        f"InteropLitePullTopic/broker-a/{q}": {"brokerOffset": 10, "consumerOffset": 10} for q in range(4)
    }
    assert assign["committedAfterExplicit"] == {"q0": 3, "q1": 10, "q2": 10, "q3": 10}
    assert assign["illegalSeek"]["class"] == "org.apache.rocketmq.client.exception.MQClientException"
