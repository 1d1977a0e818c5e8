"""The REST sequence behind rocketmq-dashboard 1.0.0's pages (issue 9), run against one target's dashboard.

Every controller of the dashboard is visited: cluster, topic, consumer, producer, message, message trace, monitor,
ops, the dashboard charts once the minute collector ran, reset offset, skip accumulation and consume directly.
Its own test task (/test/runTask.do) gives an online push consumer and producer (group TestTopicGroup) inside the
dashboard JVM, so that connection and running-info pages have a client to show.

Each step's observation is the HTTP status, the JsonResult status and the answer's shape (interop.harness.dashboard
.shape) with a few meaningful values kept (topic and group names, bodies, statuses, queue counts).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from interop.harness.dashboard import Dashboard, shape, status_of

TOPIC = "DashTopic"
GROUP = "DashGroup"
TEST_GROUP = "TestTopicGroup"  # TestController's push consumer and producer
TEST_TOPIC = "TestTopic"
CLUSTER = "DefaultCluster"
BROKER = "broker-a"
BODY = "hello dashboard"

KEEP = frozenset(
    {
        "topicList", "topic", "topicName", "sendStatus", "groupName", "group", "groupList", "brokerNameList",
        "brokerName", "perm", "readQueueNums", "writeQueueNums", "order", "messageBody", "consumeType",
        "messageModel", "subString", "expressionType", "status", "useVIPChannel", "useTLS", "errMsg", "KEYS", "TAGS",
        "consumeEnable", "retryMaxTimes", "retryQueueNums", "clusterAddrTable",
    }
)  # fmt: skip

# steps that need broker codes of issue 9's admin work: GET_CONSUMER_RUNNING_INFO 307 (the queue -> client column of
# the consumer and topic pages), CONSUME_MESSAGE_DIRECTLY 309, INVOKE_BROKER_TO_RESET_OFFSET 222, VIEW_BROKER_STATS_DATA
# 315 (the topic chart's put and get counts; the collector swallows its errors, so only the figures tell)
ADMIN_CODE_STEPS = frozenset(
    {
        "consumerRunningInfo",
        "consumeMessageDirectly",
        "resetOffset",
        "skipAccumulate",
        "topicConsumerByTopic",
        "consumerTopicByConsumer",
        "chartTopicCounts",
    }
)


@dataclass
class Run:
    dashboard: Dashboard
    replacements: dict[str, str]
    observations: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def step(
        self, name: str, path: str, params: dict[str, Any] | None = None, body: Any = None, method: str | None = None
    ) -> Any:
        http, answer = self.dashboard.call(path, params, body, method)
        self.raw[name] = answer
        shown = _without_retry_topics(answer) if name in RETRY_TIMED else answer
        self.observations[name] = {**status_of(http, answer), "shape": shape(shown, KEEP, self.replacements)}
        return answer


# Pages listing a group's topics from GET_CONSUME_STATS: the group's %RETRY% topic gets an offset only when the
# consumer's first long-polling pull of that empty queue returns (up to 15 s after start), on either broker: time
# alone, left out as in the other scenarios (interop/README.md).
RETRY_TIMED = frozenset({"consumerTopicByConsumer"})


def _without_retry_topics(answer: Any) -> Any:
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        return answer
    kept = [t for t in answer["data"] if not (isinstance(t, dict) and str(t.get("topic", "")).startswith("%RETRY%"))]
    return {**answer, "data": kept}


def _wait(predicate: Any, timeout: float, interval: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def _collector_ran_since(start: float) -> bool:
    """DashboardCollectTask: collectBroker at second 0 and collectTopic at second 30 of every minute."""
    now = time.time()
    return int(now // 60) > int(start // 60) and int((now - 30) // 60) > int((start - 30) // 60) and now % 30 > 5


def run_sequence(dashboard: Dashboard, broker_addr: str, replacements: dict[str, str]) -> Run:
    """The whole page sequence; returns every step's observation (and the raw answers for the test's asserts)."""
    run = Run(dashboard, replacements)
    step = run.step
    today = time.strftime("%Y-%m-%d")

    # setup through the dashboard's own forms: topic, subscription group, three messages, the test task
    step(
        "topicCreate",
        "/topic/createOrUpdate.do",
        body={
            "clusterNameList": [CLUSTER],
            "brokerNameList": [],
            "topicName": TOPIC,
            "readQueueNums": 4,
            "writeQueueNums": 4,
            "perm": 6,
            "order": False,
        },
    )
    group_config = {
        "groupName": GROUP,
        "consumeEnable": True,
        "consumeFromMinEnable": True,
        "consumeBroadcastEnable": True,
        "retryQueueNums": 1,
        "retryMaxTimes": 16,
        "brokerId": 0,
        "whichBrokerWhenConsumeSlowly": 1,
        "notifyConsumerIdsChangedEnable": True,
    }
    step(
        "groupCreate",
        "/consumer/createOrUpdate.do",
        body={"clusterNameList": [CLUSTER], "brokerNameList": [], "subscriptionGroupConfig": group_config},
    )
    sent = [
        step(
            f"send{i}",
            "/topic/sendTopicMessage.do",
            body={"topic": TOPIC, "key": f"key{i}", "tag": "TagA", "messageBody": BODY},
        )
        for i in range(3)
    ]
    msg_id = (sent[0].get("data") or {}).get("msgId", "")
    step("runTask", "/test/runTask.do")

    def consumed() -> bool:
        _, answer = dashboard.call("/consumer/group.query", {"consumerGroup": TEST_GROUP})
        data = answer.get("data") if isinstance(answer, dict) else None
        return bool(data) and data.get("count") == 1 and data.get("consumeType") is not None

    consumer_online = _wait(consumed, 60)
    # the consumer has committed offsets once GET_CONSUME_STATS finds them (the consumer page's diff column)
    _wait(lambda: dashboard.call("/consumer/groupList.query")[1].get("status") == 0, 10)
    _wait(
        lambda: any(
            g.get("group") == TEST_GROUP and g.get("diffTotal", -1) >= 0
            for g in dashboard.call("/consumer/groupList.query")[1].get("data") or []
        ),
        40,
    )

    # The test task's producer creates TestTopic as it sends, after its consumer started: the consumer takes the
    # topic's queues only once its route poll (30 s) and rebalance (20 s) ran, and commits offsets after that. Both
    # depend on time alone; every page that shows the queues' clients, the running info's mqTable and the skip /
    # reset buttons (which need committed offsets) read the same state on both targets only after it.
    def assigned_and_committed() -> bool:
        answer = dashboard.call("/consumer/queryTopicByConsumer.query", {"consumerGroup": TEST_GROUP})[1]
        for topic in (answer.get("data") if isinstance(answer, dict) else None) or []:
            if topic.get("topic") == TEST_TOPIC:
                queues = topic.get("queueStatInfoList") or []
                return bool(queues) and all(q.get("clientInfo") and q.get("consumerOffset", 0) > 0 for q in queues)
        return False

    run.raw["testTopicAssigned"] = _wait(assigned_and_committed, 120)
    puts_flowing = time.time()  # TestTopic has had a put a second for a while: the charts' minute window holds them
    run.raw["consumerOnline"] = consumer_online

    # cluster page
    step("clusterList", "/cluster/list.query")
    step("brokerConfig", "/cluster/brokerConfig.query", {"brokerAddr": broker_addr})
    # topic page
    step("topicList", "/topic/list.query")
    step("topicListSkip", "/topic/list.query", {"skipSysProcess": "true", "skipRetryAndDlq": "true"})
    step("topicStats", "/topic/stats.query", {"topic": TOPIC})
    step("topicRoute", "/topic/route.query", {"topic": TOPIC})
    step("topicConsumerInfo", "/topic/queryTopicConsumerInfo.query", {"topic": TEST_TOPIC})
    step("topicConsumerByTopic", "/topic/queryConsumerByTopic.query", {"topic": TEST_TOPIC})
    step("topicConfig", "/topic/examineTopicConfig.query", {"topic": TOPIC})
    step("topicConfigByBroker", "/topic/examineTopicConfig.query", {"topic": TOPIC, "brokerName": BROKER})
    # consumer page
    step("groupList", "/consumer/groupList.query")
    step("groupQuery", "/consumer/group.query", {"consumerGroup": TEST_GROUP})
    step("groupConfig", "/consumer/examineSubscriptionGroupConfig.query", {"consumerGroup": GROUP})
    step("groupBrokers", "/consumer/fetchBrokerNameList.query", {"consumerGroup": GROUP})
    step("consumerTopicByConsumer", "/consumer/queryTopicByConsumer.query", {"consumerGroup": TEST_GROUP})
    step("consumerConnection", "/consumer/consumerConnection.query", {"consumerGroup": TEST_GROUP})
    step("consumerConnectionOffline", "/consumer/consumerConnection.query", {"consumerGroup": GROUP})
    client_id = ""
    connections = (run.raw["consumerConnection"] or {}).get("data") or {}
    for connection in connections.get("connectionSet") or []:
        client_id = connection.get("clientId", "")
    step(
        "consumerRunningInfo",
        "/consumer/consumerRunningInfo.query",
        {"consumerGroup": TEST_GROUP, "clientId": client_id, "jstack": "false"},
    )
    # producer page
    step("producerConnection", "/producer/producerConnection.query", {"producerGroup": TEST_GROUP, "topic": TEST_TOPIC})
    # message page
    end = int(time.time() * 1000) + 60_000
    step("messagesByTopic", "/message/queryMessageByTopic.query", {"topic": TOPIC, "begin": 0, "end": end})
    step("messagesByKey", "/message/queryMessageByTopicAndKey.query", {"topic": TOPIC, "key": "key1"})
    step("messageView", "/message/viewMessage.query", {"topic": TOPIC, "msgId": msg_id})
    step("messageViewUnknown", "/message/viewMessage.query", {"topic": TOPIC, "msgId": "0A" * 16})
    step(
        "messagePage",
        "/message/queryMessagePageByTopic.query",
        body={"topic": TOPIC, "begin": 0, "end": end, "pageNum": 1, "pageSize": 10, "taskId": ""},
    )
    step(
        "consumeMessageDirectly",
        "/message/consumeMessageDirectly.do",
        {"topic": TEST_TOPIC, "consumerGroup": TEST_GROUP, "msgId": _test_topic_msg_id(run), "clientId": client_id},
        method="POST",
    )
    # message trace page (no trace topic on the broker: the errors must be the same)
    step("traceView", "/messageTrace/viewMessage.query", {"msgId": msg_id})
    step("traceDetail", "/messageTrace/viewMessageTraceDetail.query", {"msgId": msg_id})
    step("traceGraph", "/messageTrace/viewMessageTraceGraph.query", {"msgId": msg_id})
    # monitor page (the dashboard's own store) and ops page
    step(
        "monitorCreate",
        "/monitor/createOrUpdateConsumerMonitor.do",
        {"consumeGroupName": GROUP, "minCount": 1, "maxDiffTotal": 100},
        method="POST",
    )
    step("monitorConfig", "/monitor/consumerMonitorConfig.query")
    step("monitorByGroup", "/monitor/consumerMonitorConfigByGroupName.query", {"consumeGroupName": GROUP})
    step("monitorDelete", "/monitor/deleteConsumerMonitor.do", {"consumeGroupName": GROUP}, method="POST")
    step("opsHome", "/ops/homePage.query")
    step("opsStatus", "/ops/rocketMqStatus.query")
    step("nsaddr", "/rocketmq/nsaddr")
    # reset offset and skip accumulation (consumer page buttons) on the online group
    reset = {
        "consumerGroupList": [TEST_GROUP],
        "topic": TEST_TOPIC,
        "resetTime": int(time.time() * 1000),
        "force": True,
    }
    step("resetOffset", "/consumer/resetOffset.do", body=reset)
    step("skipAccumulate", "/consumer/skipAccumulate.do", body={**reset, "resetTime": -1})
    # dashboard page: the charts once collectBroker (second 0) and collectTopic (second 30) have run
    # a collectTopic that ran before the test task's first sends would chart no puts for TestTopic on either side,
    # one that ran after on both: wait for one that started once the puts were flowing
    _wait(lambda: _collector_ran_since(puts_flowing), 75)
    step("chartBroker", "/dashboard/broker.query", {"date": today})
    chart = step("chartTopic", "/dashboard/topic.query", {"date": today})
    run.observations["chartTopicCounts"] = _chart_counts(chart, TEST_TOPIC)
    step("chartTopicOne", "/dashboard/topic.query", {"date": today, "topicName": TOPIC})
    step("chartTopicCurrent", "/dashboard/topicCurrent")
    # deletions last
    step("groupDelete", "/consumer/deleteSubGroup.do", body={"groupName": GROUP, "brokerNameList": [BROKER]})
    step("topicDelete", "/topic/deleteTopic.do", {"topic": TOPIC}, method="POST")
    step("topicListAfterDelete", "/topic/list.query", {"skipSysProcess": "true", "skipRetryAndDlq": "true"})
    return run


def _chart_counts(answer: Any, topic: str) -> Any:
    """Whether the topic chart's latest point counts puts today (collectTopic's "time,inTPS,inCount,outTPS,outCount";
    inCount from VIEW_BROKER_STATS_DATA TOPIC_PUT_NUMS). The get count (GROUP_GET_NUMS) is left out: on the
    reference it depends on whether the test consumer had pulled when the collector ran."""
    rows = ((answer or {}).get("data") or {}).get(topic) or []
    if not rows:
        return None
    fields = str(rows[-1]).split(",")
    return {"putCountToday": int(fields[2]) > 0}


def _test_topic_msg_id(run: Run) -> str:
    """A message of TestTopic (sent by the test task's producer), found through the message page."""
    end = int(time.time() * 1000) + 60_000
    _, answer = run.dashboard.call("/message/queryMessageByTopic.query", {"topic": TEST_TOPIC, "begin": 0, "end": end})
    for message in (answer or {}).get("data") or []:
        return str(message.get("msgId", ""))
    return ""
