"""`rocketpy admin`'s ACL and export parts (issue 9): tools.yml credentials, request signing as the broker checks it,
the option handling of updateAclConfig, fastjson's pretty layout, and exportMetadata's TTY-only progress.

Outputs are compared with mqadmin in tests/interop/test_admin_cli_acl.py and test_admin_cli.py."""

from __future__ import annotations

import argparse
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from rocketpy.admin.acl_commands import UpdateAclConfig, version_rows
from rocketpy.admin.export_commands import CONFIG_KEYS
from rocketpy.admin.java_properties_order import properties_order
from rocketpy.admin.main import IMPLEMENTED, build_parser
from rocketpy.admin.pretty_json import pretty
from rocketpy.client.acl import SessionCredentials, credentials_from_file, tools_credentials
from rocketpy.client.admin import AdminClient
from rocketpy.common.java import split_commas
from rocketpy.protocol.acl_signature import calc_signature, request_content
from rocketpy.protocol.codes import RequestCode
from rocketpy.testing import RocketpyServer

ACL_AND_EXPORT = (
    "updateAclConfig",
    "deleteAclConfig",
    "clusterAclConfigVersion",
    "updateGlobalWhiteAddr",
    "exportMetadata",
    "exportConfigs",
    "exportMetrics",
)


def test_the_seven_subcommands_are_implemented() -> None:
    assert set(ACL_AND_EXPORT) <= set(IMPLEMENTED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("accessKey: rocketmq2\nsecretKey: '12345678'\n", SessionCredentials("rocketmq2", "12345678")),
        ("accessKey: rocketmq2\nsecretKey: 12345678\n", SessionCredentials("rocketmq2", "12345678")),
        ("accessKey: rocketmq2\nsecretKey: '  '\n", None),  # blank: no hook
        ("accessKey: rocketmq2\n", None),
        ("", None),
        ("[unclosed\n", None),  # unreadable: logged, no hook
        ("- a list\n", None),
    ],
)
def test_tools_yml_as_acl_utils_reads_it(tmp_path: Path, text: str, expected: SessionCredentials | None) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "tools.yml").write_text(text)
    assert tools_credentials({"ROCKETMQ_HOME": str(tmp_path)}) == expected


def test_no_home_or_no_file_means_unsigned(tmp_path: Path) -> None:
    assert tools_credentials({}) is None
    assert credentials_from_file(tmp_path / "missing.yml") is None


def test_signed_requests_pass_the_brokers_check() -> None:
    """AdminClient signs every request as AclClientRPCHook; the broker recomputes it from what arrives."""
    admin = AdminClient(["127.0.0.1:1"], credentials=SessionCredentials("rocketmq2", "12345678"))
    request = admin.request(RequestCode.QUERY_MESSAGE, {"topic": "T", "key": "k", "_UNIQUE_KEY_QUERY": "false"}, b"xy")
    ext = request.ext_fields or {}
    assert ext["AccessKey"] == "rocketmq2"
    # the client signs _UNIQUE_KEY_QUERY too; the broker's check leaves it out, as Java's does
    client_side = request_content({k: v for k, v in ext.items()}, b"xy", broker_side=False)
    assert ext["Signature"] == calc_signature(client_side, "12345678")
    bare = AdminClient(["127.0.0.1:1"]).request(RequestCode.GET_BROKER_CONFIG)
    assert not bare.ext_fields


def test_no_header_request_is_signed_over_the_access_key_alone() -> None:
    admin = AdminClient(["127.0.0.1:1"], credentials=SessionCredentials("rocketmq2", "12345678"))
    ext = admin.request(RequestCode.GET_BROKER_CLUSTER_ACL_INFO).ext_fields or {}
    assert set(ext) == {"AccessKey", "Signature"}
    assert ext["Signature"] == calc_signature(b"rocketmq2", "12345678")


def _parse(argv: list[str]) -> argparse.Namespace:
    return build_parser(UpdateAclConfig()).parse_args(argv)


def test_update_acl_config_header_as_mqadmin_builds_it() -> None:
    args = _parse(["-b", "h:1", "-a", " user01 ", "-s", "secret1", "-t", "a=PUB,b=SUB,,", "-m", "TRUE", "-i", "DENY"])
    header = UpdateAclConfig.header(args).to_ext()
    assert header == {
        "accessKey": "user01",
        "secretKey": "secret1",
        "admin": "true",
        "defaultTopicPerm": "DENY",
        "topicPerms": "a=PUB,b=SUB",
    }
    assert UpdateAclConfig.header(_parse(["-c", "C", "-a", "user01", "-s", "s", "-m", "yes"])).admin is False


def test_broker_and_cluster_options_exclude_each_other() -> None:
    with pytest.raises(SystemExit):
        _parse(["-a", "user01", "-s", "s"])
    with pytest.raises(SystemExit):
        _parse(["-b", "h:1", "-c", "C", "-a", "user01", "-s", "s"])


def test_split_commas_drops_trailing_empty_strings() -> None:
    assert split_commas("a,b,,") == ["a", "b"]
    assert split_commas("a,,b") == ["a", "", "b"]
    assert split_commas(",,,") == []
    assert split_commas("") == [""]


def test_version_rows_one_per_acl_file() -> None:
    info = {
        "clusterName": "C",
        "brokerName": "b",
        "brokerAddr": "h:1",
        "allAclFileVersion": json.dumps({"/x/plain_acl.yml": {"counter": 3, "timestamp": 0}}),
    }
    ((cluster, name, addr, path, counter, stamp),) = version_rows(info)
    assert (cluster, name, addr, path, counter) == ("C", "b", "h:1", "/x/plain_acl.yml", "3")
    assert len(stamp) == 19
    assert version_rows({"clusterName": "C"}) == []


def test_version_rows_in_the_order_of_javas_two_bucket_map() -> None:
    """`new HashMap(size, 1)`: with two files, two buckets; a default HashMap would put plain_acl.yml first here
    (the order mqadmin printed for these paths)."""
    home = "/tmp/pytest-of-root/pytest-429/admin-cli-acl-java0/home"
    versions = {f"{home}/conf/plain_acl.yml": {"counter": 1}, f"{home}/conf/acl/team.yml": {"counter": 2}}
    rows = version_rows({"allAclFileVersion": json.dumps(versions)})
    assert [row[3] for row in rows] == [f"{home}/conf/acl/team.yml", f"{home}/conf/plain_acl.yml"]


def test_pretty_json_is_fastjsons_layout() -> None:
    value = {"b": {"x": 1, "n": None, "f": 0.0}, "e": {}, "l": ["s", True], "m": []}
    expected = '{\n\t"b":{\n\t\t"x":1,\n\t\t"f":0.0\n\t},\n\t"e":{},\n\t"l":[\n\t\t"s",\n\t\ttrue\n\t],\n\t"m":[]\n}'
    assert pretty(value) == expected


def test_export_metadata_progress_only_on_a_terminal(rocketpy_server: RocketpyServer, tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "rocketpy", "admin", "exportMetadata", "-n", rocketpy_server.namesrv_addr]
    argv += ["-c", "DefaultCluster", "-f", str(tmp_path / "out")]
    piped = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == f"export {tmp_path}/out/metadata.json success\n"
    assert piped.stderr == ""
    data = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert set(data) == {"topicConfigTable", "subscriptionGroupTable", "exportTime"}

    leader, follower = pty.openpty()
    try:
        tty = subprocess.run(argv, stdout=subprocess.PIPE, stderr=follower, text=True, timeout=60, check=False)
        os.close(follower)
        follower = -1
        progress = os.read(leader, 4096).decode()
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert tty.returncode == 0
    assert tty.stdout == piped.stdout
    assert "exportMetadata: 1/1 brokers read" in progress


def test_export_to_a_path_that_cannot_be_written_fails_cleanly(rocketpy_server: RocketpyServer, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    argv = [sys.executable, "-m", "rocketpy", "admin", "exportConfigs", "-n", rocketpy_server.namesrv_addr]
    result = subprocess.run(
        [*argv, "-c", "DefaultCluster", "-f", str(tmp_path / "file" / "sub")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"rocketpy admin exportConfigs failed: java.io.FileNotFoundException: {tmp_path}/file/sub/configs.json "
        "(Not a directory)\n"
    )


def test_properties_order_is_java_17s() -> None:
    """The order mqadmin (on Java 17) wrote exportConfigs' settings in; a resize reversed fileReservedTime and
    brokerClusterName, which a HashMap would not."""
    assert properties_order(CONFIG_KEYS) == [
        *("brokerId", "traceOn", "flushDiskType", "msgTraceTopicName", "traceTopicEnable", "messageDelayLevel"),
        *("autoCreateTopicEnable", "brokerRole", "slaveReadEnable", "fileReservedTime", "brokerClusterName"),
        *("brokerName", "filterServerNums", "maxMessageSize", "useTLS", "autoCreateSubscriptionGroup"),
    ]
    assert properties_order(["a", "b", "a"]) == ["a", "b"]
