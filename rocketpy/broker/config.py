"""Broker configuration: BrokerConfig, NettyServerConfig and MessageStoreConfig keys with their Java 4.9.8 defaults.

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
import socket
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rocketpy.common import properties
from rocketpy.protocol.bodies.data_version import DataVersion

_HOME = os.path.expanduser("~")
_CPUS = os.cpu_count() or 1
MASTER_ID = 0


class BrokerRole(enum.Enum):
    ASYNC_MASTER = "ASYNC_MASTER"
    SYNC_MASTER = "SYNC_MASTER"
    SLAVE = "SLAVE"


class FlushDiskType(enum.Enum):
    ASYNC_FLUSH = "ASYNC_FLUSH"
    SYNC_FLUSH = "SYNC_FLUSH"


class ConfigError(ValueError):
    """A config value that does not parse; the message names the key and where it came from."""


def local_address() -> str:
    """RemotingUtil.getLocalAddress: a non-loopback IPv4 address (not 192.168 if another exists), else loopback.

    Python cannot list interfaces without extra packages, so the candidates are the host name's addresses and the
    source address the kernel would pick for an outbound route (a UDP connect sends nothing).
    """
    candidates: list[str] = []
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            candidates.append(str(info[4][0]))
    except OSError:
        pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            candidates.append(str(probe.getsockname()[0]))
    except OSError:
        pass
    usable = [ip for ip in candidates if not ip.startswith(("127.", "0."))]
    preferred = [ip for ip in usable if not ip.startswith("192.168")]
    if preferred:
        return preferred[0]
    return usable[-1] if usable else "127.0.0.1"


def _host_name() -> str:
    """BrokerConfig.localHostName."""
    try:
        return socket.gethostname() or "DEFAULT_BROKER"
    except OSError:
        return "DEFAULT_BROKER"


@dataclass(slots=True)
class BrokerConfig:
    """common.BrokerConfig, the keys rocketpy reads or echoes, Java declaration order."""

    rocketmq_home: str | None = field(default_factory=lambda: os.environ.get("ROCKETMQ_HOME"))
    namesrv_addr: str | None = field(default_factory=lambda: os.environ.get("NAMESRV_ADDR"))
    broker_ip1: str = field(default_factory=local_address, metadata={"java": "brokerIP1"})
    broker_ip2: str = field(default_factory=local_address, metadata={"java": "brokerIP2"})
    broker_name: str = field(default_factory=_host_name)
    broker_cluster_name: str = "DefaultCluster"
    broker_id: int = MASTER_ID
    broker_permission: int = 6
    default_topic_queue_nums: int = 8
    auto_create_topic_enable: bool = True
    cluster_topic_enable: bool = True
    broker_topic_enable: bool = True
    auto_create_subscription_group: bool = True
    message_store_plug_in: str = ""
    msg_trace_topic_name: str = "RMQ_SYS_TRACE_TOPIC"
    trace_topic_enable: bool = False
    send_message_thread_pool_nums: int = min(_CPUS, 4)
    pull_message_thread_pool_nums: int = 16 + _CPUS * 2
    query_message_thread_pool_nums: int = 8 + _CPUS
    admin_broker_thread_pool_nums: int = 16
    client_manage_thread_pool_nums: int = 32
    consumer_manage_thread_pool_nums: int = 32
    heartbeat_thread_pool_nums: int = min(32, _CPUS)
    flush_consumer_offset_interval: int = 5000
    flush_consumer_offset_history_interval: int = 60000
    reject_transaction_message: bool = False
    fetch_namesrv_addr_by_address_server: bool = False
    filter_server_nums: int = 0
    long_polling_enable: bool = True
    short_polling_time_mills: int = 1000
    notify_consumer_ids_changed_enable: bool = True
    high_speed_mode: bool = False
    transfer_msg_by_heap: bool = True
    max_delay_time: int = 40
    region_id: str = "DefaultRegion"
    register_broker_timeout_mills: int = 6000
    slave_read_enable: bool = False
    disable_consume_if_consumer_read_slowly: bool = False
    consumer_fallbehind_threshold: int = 1024 * 1024 * 1024 * 16
    broker_fast_failure_enable: bool = True
    wait_time_mills_in_send_queue: int = 200
    wait_time_mills_in_pull_queue: int = 5000
    wait_time_mills_in_heartbeat_queue: int = 31000
    wait_time_mills_in_transaction_queue: int = 3000
    start_accept_send_request_time_stamp: int = 0
    trace_on: bool = True
    enable_calc_filter_bit_map: bool = False
    expect_consumer_num_use_filter: int = 32
    max_error_rate_of_bloom_filter: int = 20
    filter_data_clean_time_span: int = 24 * 3600 * 1000
    filter_support_retry: bool = False
    enable_property_filter: bool = False
    compressed_register: bool = False
    force_register: bool = True
    register_name_server_period: int = 30000
    transaction_time_out: int = 6000
    transaction_check_max: int = 15
    transaction_check_interval: int = 60000
    acl_enable: bool = False
    store_reply_message_enable: bool = True
    enable_detail_stat: bool = True
    auto_delete_unused_stats: bool = False
    isolate_log_enable: bool = False
    config_black_list: str = "configBlackList;brokerConfigPath"


@dataclass(slots=True)
class NettyServerConfig:
    """remoting.netty.NettyServerConfig; BrokerStartup sets listenPort 10911 (the class default is 8888)."""

    listen_port: int = 10911
    server_worker_threads: int = 8
    server_callback_executor_threads: int = 0
    server_selector_threads: int = 3
    server_oneway_semaphore_value: int = 256
    server_async_semaphore_value: int = 64
    server_channel_max_idle_time_seconds: int = 120
    server_socket_snd_buf_size: int = 0
    server_socket_rcv_buf_size: int = 0
    write_buffer_high_water_mark: int = 0
    write_buffer_low_water_mark: int = 0
    server_socket_backlog: int = 1024
    server_pooled_byte_buf_allocator_enable: bool = True
    use_epoll_native_selector: bool = False


@dataclass(slots=True)
class MessageStoreConfig:
    """store.config.MessageStoreConfig: the keys the broker and store use. storePathCommitLog None means
    <storePathRootDir>/commitlog (getStorePathCommitLog)."""

    store_path_root_dir: str = os.path.join(_HOME, "store")
    store_path_commit_log: str | None = None
    mapped_file_size_commit_log: int = 1024 * 1024 * 1024
    mapped_file_size_consume_queue: int = 300000 * 20
    flush_interval_commit_log: int = 500
    commit_interval_commit_log: int = 200
    flush_interval_consume_queue: int = 1000
    clean_resource_interval: int = 10000
    delete_when: str = "04"
    disk_max_used_space_ratio: int = 75
    file_reserved_time: int = 72
    max_message_size: int = 1024 * 1024 * 4
    check_crc_on_recover: bool = field(default=True, metadata={"java": "checkCRCOnRecover"})
    flush_commit_log_least_pages: int = 4
    flush_consume_queue_least_pages: int = 2
    flush_commit_log_thorough_interval: int = 10000
    flush_consume_queue_thorough_interval: int = 60000
    max_transfer_bytes_on_message_in_memory: int = 256 * 1024
    max_transfer_count_on_message_in_memory: int = 32
    max_transfer_bytes_on_message_in_disk: int = 64 * 1024
    max_transfer_count_on_message_in_disk: int = 8
    access_message_in_memory_max_ratio: int = 40
    message_index_enable: bool = True
    max_hash_slot_num: int = 5000000
    max_index_num: int = 5000000 * 4
    max_msgs_num_batch: int = 64
    ha_listen_port: int = 10912
    ha_master_address: str | None = None
    broker_role: BrokerRole = BrokerRole.ASYNC_MASTER
    flush_disk_type: FlushDiskType = FlushDiskType.ASYNC_FLUSH
    sync_flush_timeout: int = 5000
    message_delay_level: str = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"
    flush_delay_offset_interval: int = 10000
    default_query_max_num: int = 32
    transient_store_pool_enable: bool = False
    enable_dleger_commit_log: bool = field(default=False, metadata={"java": "enableDLegerCommitLog"})

    @property
    def commit_log_dir(self) -> str:
        return self.store_path_commit_log or os.path.join(self.store_path_root_dir, "commitlog")


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
    netty: NettyServerConfig = field(default_factory=NettyServerConfig)
    store: MessageStoreConfig = field(default_factory=MessageStoreConfig)
    extra: dict[str, str] = field(default_factory=dict)
    config_path: str | None = None  # BrokerPathConfigHelper.brokerConfigPath: fixed at start-up
    data_version: DataVersion = field(default_factory=DataVersion)

    def _target(self, section: str) -> Any:
        return {"broker": self.broker, "netty": self.netty, "store": self.store}[section]

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


def load_settings(path: str | os.PathLike[str] | None, overrides: Mapping[str, str] | None = None) -> BrokerSettings:
    """BrokerStartup: defaults, the properties file, then command-line overrides; post-start rules applied."""
    settings = BrokerSettings()
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


def _escape(text: str, is_key: bool) -> str:
    """java.util.Properties.store escaping, so that no value can inject a second key into the file."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\t\n\r\f":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}[ch])
        elif ch in "=:#!" or (ch == " " and (is_key or i == 0)):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or 0x7E < ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def format_properties_for_file(settings: BrokerSettings) -> str:
    """Configuration.persist: every config, escaped, to the broker config file fixed at start-up."""
    return "".join(f"{_escape(k, True)}={_escape(v, False)}\n" for k, v in settings.items())
