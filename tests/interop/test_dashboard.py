"""⇄ rocketmq-dashboard 1.0.0 (issue 9): the REST calls behind every page give the same status and shapes against
the Java 4.9.7 reference and against rocketpy (`rocketpy serve`).

One dashboard JVM per target, both targets booted and driven side by side (the sequence waits for the dashboard's
minute collector, so running them in parallel halves the wall time); the observations are compared step by step.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.harness import processes
from interop.harness.browser import Browser, BrowserSetupError
from interop.harness.dashboard import Dashboard, start_dashboard
from interop.harness.environment import TARGETS, start_namesrv
from interop.harness.normalise import diff_paths
from tests.interop import dashboard_scenario as ds

pytestmark = pytest.mark.interop

# steps the reference refuses too: no trace topic, an unknown message id, a group nobody subscribed with
EXPECTED_REFUSALS = {"traceView", "traceDetail", "traceGraph", "messageViewUnknown", "consumerConnectionOffline"}
# the first transaction check pass creates RMQ_SYS_TRANS_HALF_TOPIC (TransactionalMessageBridge.selectTopicConfig):
# a short interval makes it exist on both targets before the topic pages are read
CONF = {"transactionCheckInterval": "1000"}


def _as_4_9_8(step: str, observed: Any) -> Any:
    """The 4.9.7 reference's answer as 4.9.8 gives it: BrokerConfig gained configBlackList and lost
    isEnableBatchPush in 4.9.8 (common/BrokerConfig.java), which the broker config page lists."""
    if step != "brokerConfig" or not isinstance(observed.get("shape", {}).get("data"), dict):
        return observed
    data = {k: v for k, v in observed["shape"]["data"].items() if k != "isEnableBatchPush"}
    data["configBlackList"] = "str"
    return {**observed, "shape": {**observed["shape"], "data": data}}


class Target:
    """One target's servers, its dashboard and the sequence's observations."""

    def __init__(self, kind: str, workdir: Path, build: Any) -> None:
        self.kind = kind
        self.workdir = workdir
        self.build = build
        self.servers: list[Any] = []
        self.dashboard: Dashboard | None = None
        self.run: ds.Run | None = None
        self.namesrv = ""
        self.broker_addr = ""

    def start(self) -> None:
        if self.kind == "java":
            env = start_namesrv(self.build, "java", self.workdir)
            self.servers.append(env.namesrv)
            broker = env.start_broker(ds.CLUSTER, ds.BROKER, conf_extra=CONF)
            self.servers.append(broker)
            self.namesrv, self.broker_addr = env.namesrv.addr, broker.addr
        else:  # `rocketpy serve` from the broker.conf the Java broker gets
            # the Java broker's directory is <workdir>/broker too: same store paths in the runtime table's keys
            conf = processes.broker_conf(self.workdir / "broker", 0, ds.CLUSTER, ds.BROKER, extra=CONF)
            lines = [line for line in conf.read_text().splitlines() if not line.startswith("listenPort=")]
            conf.write_text("\n".join(lines) + "\n")
            server, self.namesrv = processes.start_rocketpy_serve(self.workdir / "broker", ["-c", str(conf)])
            self.servers.append(server)
            self.broker_addr = server.addr
        self.dashboard = start_dashboard(self.build, self.workdir / "dashboard", self.namesrv)

    def sequence(self) -> None:
        assert self.dashboard is not None
        self.run = ds.run_sequence(self.dashboard, self.broker_addr, {str(self.workdir): "<workdir>"})

    def stop(self) -> None:
        if self.dashboard is not None:
            self.dashboard.stop()
        for server in reversed(self.servers):
            server.stop()


@pytest.fixture(scope="module")
def dashboards(interop_build: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Target]]:
    """Both targets, each with its dashboard, after the whole page sequence ran against it."""
    targets = {kind: Target(kind, tmp_path_factory.mktemp(f"dashboard-{kind}"), interop_build) for kind in TARGETS}
    try:
        with concurrent.futures.ThreadPoolExecutor(len(targets)) as pool:
            for future in [pool.submit(t.start) for t in targets.values()]:
                future.result()
            for future in [pool.submit(t.sequence) for t in targets.values()]:
                future.result()
        dump = os.environ.get("ROCKETPY_INTEROP_DUMP")
        if dump:  # optional: both targets' observations for a side-by-side look
            Path(dump).mkdir(parents=True, exist_ok=True)
            for kind, target in targets.items():
                observed = target.run.observations if target.run else None
                (Path(dump) / f"dashboard-{kind}.json").write_text(json.dumps(observed, indent=1, sort_keys=True))
        yield targets
    finally:
        for target in targets.values():
            target.stop()


def _compare(targets: dict[str, Target], steps: list[str]) -> list[str]:
    java, rocketpy = targets["java"].run, targets["rocketpy"].run
    assert java is not None and rocketpy is not None
    differences: list[str] = []
    for step in steps:
        for line in diff_paths(_as_4_9_8(step, java.observations[step]), rocketpy.observations[step]):
            differences.append(f"{step}: {line}")
    return differences


def _steps(targets: dict[str, Target], admin: bool) -> list[str]:
    run = targets["java"].run
    assert run is not None
    return [name for name in run.observations if (name in ds.ADMIN_CODE_STEPS) == admin]


def test_dashboard_pages_match_java(dashboards: dict[str, Target]) -> None:
    java = dashboards["java"].run
    assert java is not None and java.raw["consumerOnline"], "the dashboard's test consumer never came online (Java)"
    # the sequence does real work on the reference: every page but the trace ones (no trace topic) answers status 0
    failing = {
        name: obs
        for name, obs in java.observations.items()
        if obs.get("status", 0) != 0 and name not in EXPECTED_REFUSALS
    }
    assert not failing, f"the Java reference refused dashboard steps: {failing}"
    assert java.raw["messageView"]["data"]["messageView"]["messageBody"] == ds.BODY
    differences = _compare(dashboards, _steps(dashboards, admin=False))
    assert not differences, "rocketpy's dashboard answers differ (left = Java reference):\n" + "\n".join(differences)


def test_dashboard_admin_code_pages_match_java(dashboards: dict[str, Target]) -> None:
    """Consumer running info, consume directly, reset offset / skip accumulation, the queue -> client column of the
    consumer and topic pages (GET_CONSUMER_RUNNING_INFO) and the topic chart's counts (VIEW_BROKER_STATS_DATA): the
    broker's admin codes of issue 9. (No page of dashboard 1.0.0 calls GET_BROKER_CONSUME_STATS 317.)"""
    differences = _compare(dashboards, _steps(dashboards, admin=True))
    assert not differences, "rocketpy's dashboard answers differ (left = Java reference):\n" + "\n".join(differences)


_SEARCH_TOPIC = """
var scope = angular.element(document.querySelector('[ng-view]')).scope();
if (!scope || !scope.allTopicList || scope.allTopicList.indexOf(arguments[0]) < 0) { return false; }
scope.$apply(function () {
    scope.selectedTopic = arguments[0];
    scope.timepickerBegin = moment().subtract(3, 'hour');
    scope.timepickerEnd = moment().add(1, 'hour');
}.bind(null, arguments[0]));
scope.queryMessagePageByTopic();
return true;
"""
_OPEN_DETAIL = """
var scope = angular.element(document.querySelector('[ng-view]')).scope();
var first = (scope.messageShowList || [])[0];
if (!first) { return false; }
scope.queryMessageByMessageId(first.msgId, first.topic);
return true;
"""
_TEXTAREAS = "return Array.prototype.map.call(document.querySelectorAll('textarea'), function (t) { return t.value; });"


def _until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


@pytest.mark.slow
def test_browser_renders_rocketpy_pages(dashboards: dict[str, Target], tmp_path: Path) -> None:
    """Headless Chromium shows the cluster, topic, consumer and message pages of the dashboard on `rocketpy serve`:
    the broker row, topic and group names, and a message's body in the message detail dialog."""
    target = dashboards["rocketpy"]
    assert target.dashboard is not None
    base = target.dashboard.base + "/"
    try:
        browser = Browser(tmp_path / "browser")
    except BrowserSetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        browser.open(base + "#/cluster")
        text = browser.wait_text([ds.CLUSTER, ds.BROKER, target.broker_addr, "V4_9_8"])
        assert any(line.startswith(f"{ds.BROKER}\t0(master)\t{target.broker_addr}") for line in text.splitlines())
        browser.open(base + "#/topic")
        browser.wait_text([ds.TEST_TOPIC])
        browser.open(base + "#/consumer")
        browser.wait_text([ds.TEST_GROUP])
        browser.open(base + "#/message")
        assert _until(lambda: browser.script(_SEARCH_TOPIC, ds.TEST_TOPIC)), "the message page has no TestTopic"
        browser.wait_text(["TagA"])  # the test task's messages are tagged TagA0, TagA1, ...
        assert browser.script(_OPEN_DETAIL)
        bodies = _until(lambda: [v for v in browser.script(_TEXTAREAS) if v.startswith("Hello RocketMQ ")])
        assert bodies, f"no message body in the detail dialog: {browser.text()[:3000]}"
    finally:
        browser.close()
