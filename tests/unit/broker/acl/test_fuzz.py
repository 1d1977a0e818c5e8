"""Hostile input never breaks the ACL: any request yields allow or an AclError, any file loads or is an AclError."""

from __future__ import annotations

import contextlib
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rocketpy.broker.acl.errors import AclError
from rocketpy.broker.acl.manager import PlainPermissionManager
from rocketpy.broker.acl.resource import parse_request
from rocketpy.remoting.command import RemotingCommand

ACL = (
    "globalWhiteRemoteAddresses: ['10.*.*.*']\n"
    "accounts:\n- accessKey: RocketMQ\n  secretKey: '12345678'\n  topicPerms: [t=PUB]\n  groupPerms: [g=SUB]\n"
)
CODES = st.sampled_from([10, 11, 12, 15, 17, 25, 26, 34, 35, 36, 38, 200, 207, 215, 310, 9999])
TEXT = st.text(max_size=12)
EXT = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["AccessKey", "Signature", "topic", "b", "a", "group", "consumerGroup", "x"]) | TEXT,
        TEXT,
        max_size=6,
    ),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    code=CODES,
    ext=EXT,
    body=st.one_of(st.none(), st.binary(max_size=40)),
    ip=st.sampled_from(["127.0.0.1", "10.1.2.3", "::1", "bogus"]),
)
def test_any_request_is_allowed_or_refused(
    tmp_path: Path, code: int, ext: dict[str, str] | None, body: bytes | None, ip: str
) -> None:
    home = tmp_path / "home"
    if not (home / "conf").exists():
        (home / "conf").mkdir(parents=True)
        (home / "conf" / "plain_acl.yml").write_text(ACL)
    manager = PlainPermissionManager(str(home))
    manager.load()
    try:
        manager.validate(parse_request(RemotingCommand.request(code, ext, body), f"{ip}:1234"))
    except AclError as exc:
        assert exc.simple_desc().startswith("org.apache.rocketmq.acl.common.AclException: ")


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
KEYS = st.sampled_from(["globalWhiteRemoteAddresses", "accounts", "dataVersion"])
ACCOUNT = st.dictionaries(
    st.sampled_from(["accessKey", "secretKey", "whiteRemoteAddress", "admin", "topicPerms", "groupPerms"]),
    YAML_VALUES,
    max_size=6,
)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.dictionaries(KEYS, YAML_VALUES | st.lists(ACCOUNT, max_size=2), max_size=3))
def test_any_file_loads_or_is_refused(tmp_path: Path, doc: dict[str, object]) -> None:
    (tmp_path / "conf").mkdir(exist_ok=True)
    (tmp_path / "conf" / "plain_acl.yml").write_text(yaml.safe_dump(doc))
    manager = PlainPermissionManager(str(tmp_path))
    with contextlib.suppress(AclError):  # anything else fails the test
        manager.load()
