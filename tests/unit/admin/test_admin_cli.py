"""`rocketpy admin` end to end against a `rocketpy serve` started by the rocketpy.testing plugin fixture.

The layouts are compared with the Java tools in tests/interop/test_admin_cli.py; here: exit codes, errors with
code and remark, not-implemented subcommands, start-up time, and the plugin itself (free ports, fresh store).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from rocketpy.admin.main import CATALOG, IMPLEMENTED
from rocketpy.testing import RocketpyServer

ROOT = Path(__file__).resolve().parents[3]


def admin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rocketpy", "admin", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_catalog_is_mqadmin_4_9_8() -> None:
    names = [name for name, _ in CATALOG]
    assert len(names) == len(set(names)) == 56
    assert set(IMPLEMENTED) <= set(names)


def test_help_lists_every_subcommand_and_marks_missing_ones() -> None:
    result = admin()
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "The most commonly used mqadmin commands are:"
    assert sum(1 for line in lines if line.startswith("   ")) == 56
    assert sum("[not yet in rocketpy admin]" in line for line in lines) == 56 - len(IMPLEMENTED)


def test_unknown_subcommand_fails_and_every_mqadmin_subcommand_is_implemented() -> None:
    unknown = admin("noSuchCommand")
    assert unknown.returncode == 2 and unknown.stdout == "The sub command noSuchCommand not exist.\n"
    assert len(CATALOG) == 56
    assert [name for name, _ in CATALOG if name not in IMPLEMENTED] == []


def test_missing_namesrv_and_bad_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rocketpy", "admin", "topicList"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in __import__("os").environ.items() if k != "NAMESRV_ADDR"},
    )
    assert result.returncode == 1 and "no NameServer address" in result.stderr
    assert admin("topicRoute", "-n", "127.0.0.1:9876").returncode == 2  # -t is required


def test_plugin_fixture_starts_a_fresh_server_on_free_ports(rocketpy_server: RocketpyServer, tmp_path: Path) -> None:
    assert rocketpy_server.store_dir == tmp_path / "rocketpy" / "store"
    assert rocketpy_server.namesrv_addr.startswith("127.0.0.1:")
    assert rocketpy_server.namesrv_addr != "127.0.0.1:9876" and rocketpy_server.broker_addr != "127.0.0.1:10911"
    cluster = admin("clusterList", "-n", rocketpy_server.namesrv_addr)
    assert cluster.returncode == 0, cluster.stderr
    row = cluster.stdout.splitlines()[1].split()
    assert row[0] == "DefaultCluster" and row[2] == "0" and row[3] == rocketpy_server.broker_addr


def test_admin_commands_against_rocketpy(rocketpy_namesrv: str) -> None:
    ns = rocketpy_namesrv
    started = time.monotonic()
    created = admin("updateTopic", "-n", ns, "-c", "DefaultCluster", "-t", "UnitAdminTopic", "-r", "2", "-w", "2")
    elapsed = time.monotonic() - started
    assert created.returncode == 0, created.stderr
    assert created.stdout.endswith("perm=RW-, topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false]")
    assert elapsed < 3.0, f"rocketpy admin took {elapsed:.2f} s"  # well under a second when the machine is idle
    status = admin("topicStatus", "-n", ns, "-t", "UnitAdminTopic")
    assert [line.split()[1:4] for line in status.stdout.splitlines()[1:3]] == [["0", "0", "0"], ["1", "0", "0"]]
    assert "UnitAdminTopic" in admin("topicList", "-n", ns).stdout.splitlines()
    broker = admin("clusterList", "-n", ns).stdout.splitlines()[1].split()[1]
    sent = admin("sendMessage", "-n", ns, "-t", "UnitAdminTopic", "-p", "hi", "-k", "unit-key", "-b", broker, "-i", "1")
    assert sent.returncode == 0, sent.stderr
    name, qid, status, msg_id = sent.stdout.splitlines()[1].split()
    assert (name, qid, status) == (broker, "1", "SEND_OK")
    found = admin("queryMsgByKey", "-n", ns, "-t", "UnitAdminTopic", "-k", "unit-key")
    assert found.stdout.splitlines()[1].split() == [msg_id, "1", "0"]
    unknown = admin("queryMsgByKey", "-n", ns, "-t", "NoSuchTopic", "-k", "unit-key")
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert "CODE: 17  DESC: The topic[NoSuchTopic] not matched route info" in unknown.stderr
    # queryMsgById -s true: the message sent again with its properties (unique key and keys) kept
    listed = admin("printMsgByQueue", "-n", ns, "-t", "UnitAdminTopic", "-a", broker, "-i", "1", "-p", "true")
    offset_id = listed.stdout.split("msgId=", 1)[1].split(",", 1)[0]
    resent = admin("queryMsgById", "-n", ns, "-i", offset_id, "-s", "true")
    assert resent.returncode == 0, resent.stderr
    assert resent.stdout.startswith(f"prepare resend msg. originalMsgId={offset_id}SendResult [sendStatus=SEND_OK, ")
    assert f"msgId={msg_id}, " in resent.stdout and "topic=UnitAdminTopic" in resent.stdout
    found = admin("queryMsgByKey", "-n", ns, "-t", "UnitAdminTopic", "-k", "unit-key")
    assert [line.split()[0] for line in found.stdout.splitlines()[1:]] == [msg_id, msg_id]
    missing = admin("queryMsgById", "-n", ns, "-i", "0123", "-s", "true")
    assert missing.returncode == 0 and missing.stdout == ""
    assert "CODE: 208  DESC: query message by id finished, but no message." in missing.stderr
    route = admin("topicRoute", "-n", ns, "-t", "NoSuchTopic")
    assert route.returncode == 1 and route.stdout == ""
    assert "CODE: 17  DESC: No topic route info in name server for the topic: NoSuchTopic" in route.stderr
    bad = admin("updateTopic", "-n", ns, "-c", "DefaultCluster", "-t", "bad topic!")
    assert bad.returncode == 1 and "CODE: 1  DESC: The specified topic contains illegal characters" in bad.stderr
    deleted = admin("deleteTopic", "-n", ns, "-c", "DefaultCluster", "-t", "UnitAdminTopic")
    assert deleted.stdout == (
        "delete topic [UnitAdminTopic] from cluster [DefaultCluster] success.\n"
        "delete topic [UnitAdminTopic] from NameServer success.\n"
    )
    assert "UnitAdminTopic" not in admin("topicList", "-n", ns).stdout.splitlines()


def test_entry_point_registers_the_plugin() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {"rocketpy": "rocketpy.testing"}


def test_cluster_list_interval_prints_again_until_interrupted(rocketpy_namesrv: str) -> None:
    # Ctrl-C's default action in the child: a test run started in the background by a non-interactive shell (or
    # under nohup) has SIGINT ignored, and an ignored SIGINT stays ignored across exec (the process then rightly
    # does not stop: the cause of two failed full runs).
    proc = subprocess.Popen(
        [sys.executable, "-m", "rocketpy", "admin", "clusterList", "-n", rocketpy_namesrv, "-i", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Interrupt once two listings were printed (a fixed sleep raced the start-up on a loaded machine), and never
    # leave the process behind when it does not stop: that is the failure, reported with what it printed.
    assert proc.stdout is not None
    printed: list[str] = []
    deadline = time.monotonic() + 60
    while sum("#Cluster Name" in line for line in printed) < 2 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        printed.append(line)
    proc.send_signal(signal.SIGINT)
    try:
        rest, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, err = proc.communicate()
        raise AssertionError(f"clusterList -i did not stop on SIGINT; stderr: {err[-2000:]}") from None
    out = "".join(printed) + rest
    assert proc.returncode == 130, err
    assert out.count("#Cluster Name") >= 2
