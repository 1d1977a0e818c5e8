"""Queue-offset requests, GET_TOPIC_STATS_INFO, GET_CONSUME_STATS and GET_BROKER_RUNTIME_INFO."""

from __future__ import annotations

import time

from rocketpy.broker.processors.offsets_stats import hash_map_order, message_queue_hash
from rocketpy.broker.stats import BrokerStats, RateCounter, disk_used_ratio, human_bytes, next_morning_ms
from rocketpy.common import fastjson
from rocketpy.protocol.bodies.kv import KVTable
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.store.format import decode_message_id
from tests.unit.broker.conftest import Clock
from tests.unit.broker.data.conftest import DataPlane
from tests.unit.broker.data.golden_data_plane import golden

# every key PROTOCOL.md §2b lists, plus what the store part of Java's table holds
RUNTIME_KEYS = [
    "brokerVersionDesc",
    "brokerVersion",
    "msgPutTotalYesterdayMorning",
    "msgPutTotalTodayMorning",
    "msgPutTotalTodayNow",
    "msgGetTotalYesterdayMorning",
    "msgGetTotalTodayMorning",
    "msgGetTotalTodayNow",
    "sendThreadPoolQueueSize",
    "sendThreadPoolQueueCapacity",
    "pullThreadPoolQueueSize",
    "pullThreadPoolQueueCapacity",
    "queryThreadPoolQueueSize",
    "queryThreadPoolQueueCapacity",
    "sendThreadPoolQueueHeadWaitTimeMills",
    "pullThreadPoolQueueHeadWaitTimeMills",
    "queryThreadPoolQueueHeadWaitTimeMills",
    "EndTransactionQueueSize",
    "EndTransactionThreadPoolQueueCapacity",
    "dispatchBehindBytes",
    "pageCacheLockTimeMills",
    "earliestMessageTimeStamp",
    "startAcceptSendRequestTimeStamp",
    "remainTransientStoreBufferNumbs",
    "remainHowManyDataToFlush",
    "commitLogDirCapacity",
    "commitLogDiskRatio",
    "consumeQueueDiskRatio",
    "commitLogMinOffset",
    "commitLogMaxOffset",
    "bootTimestamp",
    "runtime",
    "putMessageEntireTimeMax",
    "putMessageTimesTotal",
    "putMessageFailedTimes",
    "putMessageSizeTotal",
    "putMessageDistributeTime",
    "putMessageAverageSize",
    "dispatchMaxBuffer",
    "getMessageEntireTimeMax",
    "putTps",
    "getFoundTps",
    "getMissTps",
    "getTotalTps",
    "getTransferedTps",
    "putLatency99",
    "putLatency999",
]


def q(topic: str, queue_id: int) -> dict[str, str]:
    return {"topic": topic, "queueId": str(queue_id), "bname": "broker-a"}


async def test_queue_offsets(plane: DataPlane) -> None:
    stamps = []
    for i in range(3):
        reply = await plane.send_one(queue_id=1, body=f"m{i}".encode())
        stored = plane.store.look_message_by_offset(decode_message_id((reply.ext_fields or {})["msgId"])[1])
        assert stored is not None
        stamps.append(stored.store_timestamp)
        time.sleep(0.002)
    max_reply = await plane.call(RequestCode.GET_MAX_OFFSET, q("TopicTest", 1))
    min_reply = await plane.call(RequestCode.GET_MIN_OFFSET, q("TopicTest", 1))
    earliest = await plane.call(RequestCode.GET_EARLIEST_MSG_STORETIME, q("TopicTest", 1))
    assert (max_reply.ext_fields, min_reply.ext_fields) == ({"offset": "3"}, {"offset": "0"})
    assert earliest.ext_fields == {"timestamp": str(stamps[0])}
    search = await plane.call(
        RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, {**q("TopicTest", 1), "timestamp": str(stamps[2])}
    )
    assert search.code == ResponseCode.SUCCESS and search.ext_fields == {"offset": "2"}


async def test_offsets_of_a_queue_that_never_held_a_message(plane: DataPlane) -> None:
    assert (await plane.call(RequestCode.GET_MAX_OFFSET, q("Nothing", 0))).ext_fields == {"offset": "0"}
    assert (await plane.call(RequestCode.GET_MIN_OFFSET, q("Nothing", 0))).ext_fields == {"offset": "0"}
    assert (await plane.call(RequestCode.GET_EARLIEST_MSG_STORETIME, q("Nothing", 0))).ext_fields == {"timestamp": "-1"}
    search = await plane.call(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, {**q("Nothing", 0), "timestamp": "5"})
    assert search.ext_fields == {"offset": "0"}


async def test_topic_stats(plane: DataPlane) -> None:
    for i in range(3):
        await plane.send_one(queue_id=i % 2)
    reply = await plane.call(RequestCode.GET_TOPIC_STATS_INFO, {"topic": "TopicTest"})
    assert reply.code == ResponseCode.SUCCESS
    raw = bytes(reply.body or b"")
    assert raw.startswith(b'{"offsetTable":{{"brokerName":"broker-a","queueId":')  # MessageQueue as an object key
    table = {key.get("queueId"): value for key, value in fastjson.loads(raw)["offsetTable"].items()}
    assert {k: (v["minOffset"], v["maxOffset"]) for k, v in table.items()} == {
        0: (0, 2),
        1: (0, 1),
        2: (0, 0),
        3: (0, 0),
    }
    assert table[0]["lastUpdateTimestamp"] > 0 and table[2]["lastUpdateTimestamp"] == 0
    missing = await plane.call(RequestCode.GET_TOPIC_STATS_INFO, {"topic": "Nope"})
    assert (missing.code, missing.remark) == (ResponseCode.TOPIC_NOT_EXIST, "topic[Nope] not exist")


def test_message_queue_order_matches_java() -> None:
    java = fastjson.loads(golden("topic_stats"))["offsetTable"]
    java_order = [key.get("queueId") for key in java]
    ours = hash_map_order([("TopicTest", "broker-a", i) for i in range(8)])
    assert [mq[2] for mq in ours] == java_order
    assert message_queue_hash("TopicTest", "broker-a", 0) != message_queue_hash("TopicTest", "broker-a", 1)


async def test_consume_stats(plane: DataPlane) -> None:
    for i in range(4):
        await plane.send_one(queue_id=0, body=f"m{i}".encode())
    plane.controller.offsets.commit("c", "G1", "TopicTest", 0, 3)
    reply = await plane.call(RequestCode.GET_CONSUME_STATS, {"consumerGroup": "G1", "topic": "TopicTest"})
    body = fastjson.loads(bytes(reply.body or b""))
    rows = {key.get("queueId"): value for key, value in body["offsetTable"].items()}
    assert rows[0]["brokerOffset"] == 4 and rows[0]["consumerOffset"] == 3
    assert rows[0]["lastTimestamp"] == plane.store.get_message_store_timestamp("TopicTest", 0, 2)
    assert rows[1] == {"brokerOffset": 0, "consumerOffset": 0, "lastTimestamp": 0}
    assert body["consumeTps"] == 0.0
    every = await plane.call(RequestCode.GET_CONSUME_STATS, {"consumerGroup": "G1"})  # blank topic: all with offsets
    assert bytes(every.body or b"") == bytes(reply.body or b"")
    nobody = await plane.call(RequestCode.GET_CONSUME_STATS, {"consumerGroup": "Nobody"})
    assert fastjson.loads(bytes(nobody.body or b"")) == {"consumeTps": 0.0, "offsetTable": {}}


async def test_consume_tps_counts_pulled_messages(plane: DataPlane) -> None:
    for _ in range(6):
        await plane.send_one(queue_id=0)
    plane.clock.now += 10_000
    await plane.pull_records("TopicTest", 0)
    plane.clock.now += 20_000
    reply = await plane.call(RequestCode.GET_CONSUME_STATS, {"consumerGroup": "G1", "topic": "TopicTest"})
    tps = fastjson.loads(bytes(reply.body or b""))["consumeTps"]
    assert abs(tps - 6 / 20) < 1e-9  # 6 messages over the 20 s since the group's counter started


async def test_broker_runtime_info_has_every_key(plane: DataPlane) -> None:
    young = await plane.call(RequestCode.GET_BROKER_RUNTIME_INFO)
    young_table = KVTable.from_json(bytes(young.body or b"")).table
    # A broker younger than its sampling windows answers as StoreStatsService does (observed on the Java 4.9.7
    # reference by tests/interop/test_broker_admin.py): empty windows, no distribution yet, no earliest time.
    assert young_table["putTps"] == "  " and young_table["getTransferedTps"] == "  "
    assert young_table["getTotalTps"] == "0.0 0.0 0.0"
    assert young_table["putMessageDistributeTime"] == "null"
    assert young_table["earliestMessageTimeStamp"] == "-1"
    # The store directories exist from boot (DefaultMessageStore's constructor): a real ratio, not -1.
    assert 0.0 <= float(young_table["commitLogDiskRatio"]) <= 1.0
    plane.clock.now += 5_000
    for _ in range(5):
        await plane.send_one()
    plane.clock.now += 6_000
    await plane.pull_records("TopicTest", 0)
    reply = await plane.call(RequestCode.GET_BROKER_RUNTIME_INFO)
    table = KVTable.from_json(bytes(reply.body or b"")).table
    assert set(RUNTIME_KEYS) <= set(table)
    for key in ("putTps", "getFoundTps", "getMissTps", "getTransferedTps"):
        ten, sixty, six_hundred = table[key].split(" ")
        assert float(ten) >= 0 and sixty == six_hundred == "", (key, table[key])
    assert all(float(p) >= 0 for p in table["getTotalTps"].split(" "))
    assert table["putTps"].split(" ")[0] == "0.5"  # 5 sends in the last 10 s, as Java's one-second samples see it
    assert table["msgPutTotalTodayNow"] == "5" and table["putMessageTimesTotal"] == "5"
    assert int(table["msgGetTotalTodayNow"]) > 0
    assert table["brokerVersionDesc"] == "V4_9_8" and table["brokerVersion"] == "409"
    assert int(table["commitLogMaxOffset"]) == plane.store.max_phy_offset
    assert table["runtime"] == "[ 0 days, 0 hours, 0 minutes, 11 seconds ]"
    assert 0.0 <= float(table["commitLogDiskRatio"]) <= 1.0
    assert table["commitLogDirCapacity"].startswith("Total : ")


def test_rate_counter_windows() -> None:
    clock = Clock(0)
    counter = RateCounter(clock)
    for _ in range(600):
        clock.now += 1000
        counter.add(2)
    clock.now += 1000  # the next one-second sample holds the last add
    assert counter.tps(10) == 2.0 and counter.tps(600) == 2.0
    clock.now += 29_000  # quiet for 30 s since the last add
    # 30 of the last 60 s held adds: 1.0, give or take the add on the window's edge (Java's sampler phase too)
    assert counter.tps(10) == 0.0 and abs(counter.tps(60) - 1.0) < 0.05


def test_rate_counter_burst_then_quiet_reads_zero() -> None:
    """clusterList -i 1 after a short burst: Java's 10 s window reads 0.0 once the burst is 10 s old, not a rate
    decaying over the quiet stretch (the burst's tail falls after the last snapshot taken during it)."""
    clock = Clock(0)
    counter = RateCounter(clock)
    clock.now = 30_500
    assert counter.tps(10) == 0.0
    for _ in range(120):  # 120 messages over 1.2 s
        clock.now += 10
        counter.add()
    for quiet_s, expected in ((3, 120 / 10), (8, 120 / 10), (12, 0.0), (20, 0.0)):
        clock.now = 31_700 + quiet_s * 1000
        assert counter.tps(10) == expected, quiet_s
    clock.now += 500
    counter.add(10)  # a new burst after the quiet stretch counts only itself
    clock.now += 1000
    assert counter.tps(10) == 1.0


def test_daily_totals_roll_at_local_midnight() -> None:
    clock = Clock(1_700_000_000_000)
    stats = BrokerStats(clock)
    stats.note_put(3, 300, 1)
    clock.now = next_morning_ms(clock.now) + 1
    stats.note_put(2, 200, 1)
    assert (stats.put_total_yesterday_morning, stats.put_total_today_morning, stats.put_times.total) == (0, 3, 5)
    clock.now = next_morning_ms(clock.now) + 1
    stats.store_runtime_info()
    assert (stats.put_total_yesterday_morning, stats.put_total_today_morning) == (3, 5)


def test_put_latency_percentiles_use_the_last_minute() -> None:
    clock = Clock(0)
    stats = BrokerStats(clock)
    for ms in [1] * 990 + [300] * 5 + [3000] * 5:
        stats.note_put(1, 10, ms)
    assert stats.store_runtime_info()["putLatency99"] == "0.00"  # nothing in a full minute yet
    clock.now += 60_000
    info = stats.store_runtime_info()
    # findPutMessageEntireTimePX: interpolated inside the bucket the percentile falls in
    assert (info["putLatency99"], info["putLatency999"]) == ("1.00", "2800.00")
    assert info["putMessageDistributeTime"].startswith("[<=0ms]:0 [0~10ms]:990 [10~50ms]:0 ")


def test_helpers() -> None:
    assert human_bytes(512) == "512 B" and human_bytes(1536) == "1.5 KiB" and human_bytes(3 * 1024**3) == "3.0 GiB"
    assert disk_used_ratio("/nonexistent/path") == -1.0
    assert 0.0 <= disk_used_ratio("/") <= 1.0
