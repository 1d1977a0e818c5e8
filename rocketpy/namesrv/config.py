"""NameServer configuration: NamesrvConfig + NettyServerConfig keys with their Java defaults, the properties text
GET_NAMESRV_CONFIG returns, and the guarded update behind UPDATE_NAMESRV_CONFIG.

Java (NamesrvStartup, common.Configuration) registers both config objects, reads `-c file.properties` into them
(unknown keys are kept and echoed back), sets configStorePath to that file and renders every non-null field as
`key=value\\n` (MixAll.properties2String; Java's order is ConcurrentHashMap order, which no client relies on; here it
is declaration order, then extra keys). Java's update copies any existing key into the objects unless it is in
configBlackList (configBlackList, configStorePath, kvConfigPath, rocketmqHome in 4.9.8), then writes all configs to
configStorePath; CVE-2023-33246/37582 turned that into a file write. Here an update is all-or-nothing: every key
must be on RUNTIME_KEYS, and any key naming a path, dir, home, file, address, port or command, or listed in
configBlackList, is refused with NO_PERMISSION before anything is applied.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rocketpy.common import properties
from rocketpy.remoting.config import NettyServerConfig, namesrv_netty_config

_HOME = os.path.expanduser("~")


def _default_rocketmq_home() -> str | None:
    # System.getProperty("rocketmq.home.dir", System.getenv("ROCKETMQ_HOME"))
    return os.environ.get("ROCKETMQ_HOME")


@dataclass(slots=True)
class NamesrvConfig:
    """common.namesrv.NamesrvConfig, fields in Java declaration order."""

    rocketmq_home: str | None = field(default_factory=_default_rocketmq_home)
    kv_config_path: str = os.path.join(_HOME, "namesrv", "kvConfig.json")
    config_store_path: str = os.path.join(_HOME, "namesrv", "namesrv.properties")
    product_env_name: str = "center"
    cluster_test: bool = False
    order_message_enable: bool = False
    config_black_list: str = "configBlackList;configStorePath;kvConfigPath"


# Keys an UPDATE_NAMESRV_CONFIG may change. orderMessageEnable takes effect at once (route replies); the others are
# read only at start-up in Java too, so changing them at runtime is harmless.
RUNTIME_KEYS = frozenset(
    {
        "orderMessageEnable",
        "productEnvName",
        "clusterTest",
        "serverWorkerThreads",
        "serverCallbackExecutorThreads",
        "serverSelectorThreads",
        "serverOnewaySemaphoreValue",
        "serverAsyncSemaphoreValue",
        "serverChannelMaxIdleTimeSeconds",
        "serverSocketSndBufSize",
        "serverSocketRcvBufSize",
        "writeBufferHighWaterMark",
        "writeBufferLowWaterMark",
        "serverSocketBacklog",
        "serverPooledByteBufAllocatorEnable",
        "useEpollNativeSelector",
    }
)
ALWAYS_BLACKLISTED = frozenset({"configBlackList", "configStorePath", "kvConfigPath", "rocketmqHome"})
_DANGEROUS = re.compile(r"(path|dir|home|file|addr|port|command|blacklist)", re.IGNORECASE)


class ConfigUpdateRefused(Exception):
    """Carries the response code and remark the NameServer answers; nothing was applied."""

    def __init__(self, code: int, remark: str) -> None:
        super().__init__(remark)
        self.code = code
        self.remark = remark


def java_key(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


_FIELDS: dict[str, tuple[type, str]] = {}  # javaKey -> (config class, python attr); built once, read-only
for _cls in (NamesrvConfig, NettyServerConfig):
    for _f in dataclasses.fields(_cls):
        _FIELDS[java_key(_f.name)] = (_cls, _f.name)


def _parse_typed(current: Any, text: str) -> Any:
    """MixAll.properties2Object parsing by the field's type; ValueError when Java would fail."""
    text = text.strip() if not isinstance(current, str | type(None)) else text
    if isinstance(current, bool):
        return text.lower() == "true"  # Boolean.parseBoolean never fails
    if isinstance(current, int):
        if not re.fullmatch(r"[+-]?[0-9]+", text) or not -(2**31) <= int(text) < 2**31:
            raise ValueError(f'For input string: "{text}"')
        return int(text)
    if any(ord(c) < 0x20 for c in text):
        raise ValueError("control characters are not allowed in config values")
    return text


def _format_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@dataclass(slots=True)
class NamesrvSettings:
    """Both config objects plus the unknown keys of the config file (Configuration.registerConfig(properties))."""

    namesrv: NamesrvConfig = field(default_factory=NamesrvConfig)
    netty: NettyServerConfig = field(default_factory=namesrv_netty_config)
    extra: dict[str, str] = field(default_factory=dict)

    def _target(self, cls: type) -> Any:
        return self.namesrv if cls is NamesrvConfig else self.netty

    def get(self, key: str) -> Any:
        cls, attr = _FIELDS[key]
        return getattr(self._target(cls), attr)

    def apply_properties(self, props: Mapping[str, str], *, keep_unknown: bool = True) -> None:
        """Start-up loading (NamesrvStartup -c / command line): set known keys, skip values Java cannot parse,
        remember unknown keys so that GET_NAMESRV_CONFIG echoes them back as Java does."""
        for key, text in props.items():
            if key not in _FIELDS:
                if keep_unknown:
                    self.extra[key] = text
                continue
            cls, attr = _FIELDS[key]
            target = self._target(cls)
            try:
                setattr(target, attr, _parse_typed(getattr(target, attr), text))
            except ValueError:
                continue  # MixAll.properties2Object swallows parse errors

    def black_list(self) -> set[str]:
        return set(ALWAYS_BLACKLISTED) | {k for k in self.namesrv.config_black_list.split(";") if k}

    def update_at_runtime(self, props: Mapping[str, str]) -> None:
        """UPDATE_NAMESRV_CONFIG: validate every key and value first, then apply all; raise ConfigUpdateRefused."""
        black = self.black_list()
        for key in props:
            if key in black or _DANGEROUS.search(key):
                raise ConfigUpdateRefused(16, "Can not update config in black list.")
            if key not in RUNTIME_KEYS:
                raise ConfigUpdateRefused(16, f"Can not update config {key}: not updatable at runtime.")
        parsed: dict[str, Any] = {}
        for key, text in props.items():
            try:
                parsed[key] = _parse_typed(self.get(key), text)
            except ValueError as exc:
                raise ConfigUpdateRefused(1, f"invalid value for {key}: {exc}") from None
        for key, value in parsed.items():
            cls, attr = _FIELDS[key]
            setattr(self._target(cls), attr, value)

    def items(self) -> list[tuple[str, str]]:
        """Every non-null config as (key, text): NamesrvConfig, NettyServerConfig, then extra file keys."""
        rendered: dict[str, str] = dict(self.extra)
        for cls in (NamesrvConfig, NettyServerConfig):
            target = self._target(cls)
            for f in dataclasses.fields(target):
                value = getattr(target, f.name)
                if value is not None:
                    rendered[java_key(f.name)] = _format_value(value)
        ordered = [k for k in _FIELDS if k in rendered] + [k for k in self.extra if k not in _FIELDS]
        return [(k, rendered[k]) for k in ordered]

    def format_properties(self) -> str:
        """Configuration.getAllConfigsFormatString: `key=value\\n` per non-null entry, values as Java's toString."""
        return "".join(f"{k}={v}\n" for k, v in self.items())

    def format_properties_for_file(self) -> str:
        """The persisted form: escaped like java.util.Properties.store so that no value can inject a key."""
        return "".join(f"{properties.escape(k, True)}={properties.escape(v, False)}\n" for k, v in self.items())


def load_settings(path: str | os.PathLike[str] | None, overrides: Mapping[str, str] | None = None) -> NamesrvSettings:
    """NamesrvStartup: defaults, then the -c properties file (which also becomes configStorePath), then overrides."""
    settings = NamesrvSettings()
    if path is not None:
        settings.apply_properties(properties.load_file(str(path)))
        settings.namesrv.config_store_path = str(path)
    if overrides:
        settings.apply_properties(overrides, keep_unknown=False)
    return settings
