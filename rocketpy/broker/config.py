"""Broker configuration: loading broker.conf into the config objects (config_objects.py), rendering them.

Java (BrokerStartup) reads `-c broker.conf` (java.util.Properties) into the config objects with
MixAll.properties2Object: a key matches a setter, unknown keys are ignored, and a value that does not parse is
silently dropped. Here a bad value is an error naming the key and the file, because a broker that quietly runs on a
default the operator did not ask for is worse than one that refuses to start. Command-line `--key=value` overrides
are applied after the file, as `mqbroker -n ...` options are.

Configuration.getAllConfigsFormatString renders every non-null field as `key=value\\n` for GET_BROKER_CONFIG (26),
followed by file keys no config object knows (Java keeps them: controller.getConfiguration().registerConfig(props)).
UPDATE_BROKER_CONFIG (25) goes through `update_at_runtime` in config_update.py.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rocketpy.broker.config_objects import (
    MASTER_ID,
    BrokerConfig,
    BrokerRole,
    FlushDiskType,
    MessageStoreConfig,
    NettyClientConfig,
    local_address,
)
from rocketpy.common import properties
from rocketpy.protocol.bodies.data_version import DataVersion
from rocketpy.remoting.config import NettyServerConfig, broker_netty_config

__all__ = [
    "MASTER_ID",
    "BrokerConfig",
    "BrokerRole",
    "BrokerSettings",
    "ConfigError",
    "FlushDiskType",
    "MessageStoreConfig",
    "NettyClientConfig",
    "NettyServerConfig",
    "load_settings",
    "local_address",
]


class ConfigError(ValueError):
    """A config value that does not parse; the message names the key and where it came from."""


def java_key(f: dataclasses.Field[Any]) -> str:
    explicit = f.metadata.get("java")
    if explicit:
        return str(explicit)
    head, *rest = f.name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


@dataclass(frozen=True, slots=True)
class ConfigKey:
    """One settable key: which object, which attribute, and its declared Python type."""

    key: str
    section: str
    attr: str
    kind: Any


_SECTIONS: tuple[tuple[str, type], ...] = (
    ("broker", BrokerConfig),
    ("netty", NettyServerConfig),
    ("client", NettyClientConfig),
    ("store", MessageStoreConfig),
)


def _build_keys() -> dict[str, ConfigKey]:
    keys: dict[str, ConfigKey] = {}
    for section, cls in _SECTIONS:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            key = java_key(f)
            keys[key] = ConfigKey(key, section, f.name, hints[f.name])
    return keys


KEYS: Mapping[str, ConfigKey] = _build_keys()


def parse_value(spec: ConfigKey, text: str) -> Any:
    """MixAll.properties2Object's conversions by declared type; ValueError with Java's wording when it fails."""
    kind = spec.kind
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if args:
        kind = args[0]
    if kind is bool:
        return text.strip().lower() == "true"  # Boolean.parseBoolean never fails
    if kind is int:
        body = text.strip()
        digits = body[1:] if body[:1] in "+-" else body
        if not digits.isascii() or not digits.isdigit():
            raise ValueError(f'For input string: "{text}"')
        return int(body)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind[text.strip()]
        except KeyError:
            raise ValueError(f"No enum constant {kind.__name__}.{text.strip()}") from None
    if any(ord(c) < 0x20 for c in text):
        raise ValueError("control characters are not allowed")
    return text


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return value.name
    return str(value)


@dataclass(slots=True)
class BrokerSettings:
    """The three config objects, file keys no object knows, the fixed config path and the Configuration
    DataVersion that GET_BROKER_CONFIG reports."""

    broker: BrokerConfig = field(default_factory=BrokerConfig)
    netty: NettyServerConfig = field(default_factory=broker_netty_config)
    client: NettyClientConfig = field(default_factory=NettyClientConfig)
    store: MessageStoreConfig = field(default_factory=MessageStoreConfig)
    extra: dict[str, str] = field(default_factory=dict)
    config_path: str | None = None  # BrokerPathConfigHelper.brokerConfigPath: fixed at start-up
    data_version: DataVersion = field(default_factory=DataVersion)

    def _target(self, section: str) -> Any:
        return {"broker": self.broker, "netty": self.netty, "client": self.client, "store": self.store}[section]

    def get(self, key: str) -> Any:
        spec = KEYS[key]
        return getattr(self._target(spec.section), spec.attr)

    def set(self, key: str, value: Any) -> None:
        spec = KEYS[key]
        setattr(self._target(spec.section), spec.attr, value)

    def apply(self, props: Mapping[str, str], source: str, *, keep_unknown: bool = True) -> None:
        """properties2Object over all three objects; a bad value raises ConfigError naming key and source."""
        parsed: dict[str, Any] = {}
        for key, text in props.items():
            spec = KEYS.get(key)
            if spec is None:
                if keep_unknown:
                    self.extra[key] = text
                continue
            try:
                parsed[key] = parse_value(spec, text)
            except ValueError as exc:
                raise ConfigError(f"{source}: bad value for {key}: {exc}") from None
        for key, value in parsed.items():
            self.set(key, value)

    def items(self) -> Iterator[tuple[str, str]]:
        """Every non-null key as text: the three objects, then unknown file keys."""
        for key in KEYS:
            value = self.get(key)
            if value is not None:
                yield key, format_value(value)
        for key, text in self.extra.items():
            if key not in KEYS:
                yield key, text

    def format_properties(self) -> str:
        """Configuration.getAllConfigsFormatString (MixAll.properties2String)."""
        return "".join(f"{k}={v}\n" for k, v in self.items())

    @property
    def broker_addr(self) -> str:
        """BrokerController.getBrokerAddr: brokerIP1:listenPort."""
        return f"{self.broker.broker_ip1}:{self.netty.listen_port}"

    @property
    def ha_server_addr(self) -> str:
        """BrokerController.getHAServerAddr: brokerIP2:haListenPort."""
        return f"{self.broker.broker_ip2}:{self.store.ha_listen_port}"

    def namesrv_addrs(self) -> list[str]:
        return [a.strip() for a in (self.broker.namesrv_addr or "").split(";") if a.strip()]

    @property
    def config_dir(self) -> Path:
        return Path(self.store.store_path_root_dir) / "config"


def load_settings(
    path: str | os.PathLike[str] | None, overrides: Mapping[str, str] | None = None, *, client_use_tls: bool = False
) -> BrokerSettings:
    """BrokerStartup: defaults, the properties file, then command-line overrides; post-start rules applied.

    `client_use_tls` is useTLS before the file is read (tls.enable, by default whether TLS is enforcing)."""
    settings = BrokerSettings()
    settings.client.use_tls = client_use_tls
    if path is not None:
        try:
            props = properties.load_file(os.fspath(path))
        except (OSError, properties.PropertiesError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        settings.apply(props, os.fspath(path))
        settings.config_path = os.fspath(path)
    if overrides:
        settings.apply(overrides, "command line", keep_unknown=False)
    if settings.config_path is None:
        settings.config_path = str(settings.config_dir / "broker.properties")
    finish_startup(settings)
    return settings


def finish_startup(settings: BrokerSettings) -> None:
    """The adjustments BrokerStartup makes after reading the configs."""
    for addr in settings.namesrv_addrs():
        host, _, port = addr.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(
                f"The Name Server Address[{settings.broker.namesrv_addr}] illegal, please set it as follows, "
                '"127.0.0.1:9876;192.168.0.1:9876"'
            )
    if settings.store.broker_role is BrokerRole.SLAVE:
        if settings.broker.broker_id <= 0:
            raise ConfigError("Slave's brokerId must be > 0")
    else:
        settings.broker.broker_id = MASTER_ID
    settings.store.ha_listen_port = settings.netty.listen_port + 1


def format_properties_for_file(settings: BrokerSettings) -> str:
    """Configuration.persist: every config, escaped, to the broker config file fixed at start-up."""
    return "".join(f"{properties.escape(k, True)}={properties.escape(v, False)}\n" for k, v in settings.items())
