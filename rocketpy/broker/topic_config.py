"""TopicConfigManager: the broker's topics, the system topics it creates at start, and auto-creation.

Mirrors broker.topic.TopicConfigManager (4.9.8). The constructor creates, in this order: SELF_TEST_TOPIC (1 queue),
TBW102 (defaultTopicQueueNums queues, perm RWX, only with autoCreateTopicEnable), BenchmarkTest (1024 queues), the
cluster-name topic (16 queues; perm X, RW added with clusterTopicEnable), the broker-name topic (1 queue; perm X,
RW added with brokerTopicEnable), OFFSET_MOVED_EVENT (1), SCHEDULE_TOPIC_XXXX (18), the trace topic (1, only with
traceTopicEnable) and `<cluster>_REPLY_TOPIC` (1); each becomes a system topic. RMQ_SYS_TRANS_HALF_TOPIC is *not*
created here: the transaction service creates it on first use (createTopicInSendMessageBackMethod).

The file config/topics.json (TopicConfigSerializeWrapper) is loaded on top of these, so a persisted entry wins.
Every change bumps the DataVersion; `on_persist` asks the owner to write the file soon and `on_register` to
re-register with the NameServers at once (Java's registerBrokerAll(false, true, true) after an auto-creation).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable

from rocketpy.broker.config import BrokerConfig
from rocketpy.broker.persistence import TOPICS_JSON, ConfigStore
from rocketpy.broker.topic_validator import (
    AUTO_CREATE_TOPIC_KEY_TOPIC,
    RMQ_SYS_BENCHMARK_TOPIC,
    RMQ_SYS_OFFSET_MOVED_EVENT,
    RMQ_SYS_SCHEDULE_TOPIC,
    RMQ_SYS_SELF_TEST_TOPIC,
    RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC,
    SystemTopics,
    reply_topic,
)
from rocketpy.common import fastjson
from rocketpy.protocol.bodies.data_version import DataVersion
from rocketpy.protocol.bodies.kv import KVTable
from rocketpy.protocol.bodies.topic_config import (
    PERM_INHERIT,
    PERM_READ,
    PERM_WRITE,
    TopicConfig,
    TopicConfigSerializeWrapper,
)

log = logging.getLogger("RocketmqBroker")

SCHEDULE_TOPIC_QUEUE_NUM = 18
Callback = Callable[[], None]


def _nothing() -> None:
    return None


class TopicConfigManager:
    def __init__(
        self,
        broker: BrokerConfig,
        clock_ms: Callable[[], int],
        *,
        on_persist: Callback = _nothing,
        on_register: Callback = _nothing,
    ) -> None:
        self.broker = broker
        self.clock_ms = clock_ms
        self.on_persist = on_persist
        self.on_register = on_register
        self.table: dict[str, TopicConfig] = {}
        self._fragments: dict[str, str] = {}  # encode(): name -> its '"name":{...}' JSON text, in table order
        self._stale: dict[str, None] = {}  # names whose fragment is stale, in the order they entered the table
        self.data_version = DataVersion(timestamp=clock_ms())
        self.system_topics = SystemTopics()
        self._create_system_topics()

    def _system(self, name: str, queues: int = 16, perm: int = PERM_READ | PERM_WRITE) -> None:
        self.system_topics.add(name)
        self.table[name] = TopicConfig(topic_name=name, read_queue_nums=queues, write_queue_nums=queues, perm=perm)
        self._stale[name] = None

    def _create_system_topics(self) -> None:
        b = self.broker
        self._system(RMQ_SYS_SELF_TEST_TOPIC, 1)
        if b.auto_create_topic_enable:
            self._system(AUTO_CREATE_TOPIC_KEY_TOPIC, b.default_topic_queue_nums, PERM_INHERIT | PERM_READ | PERM_WRITE)
        self._system(RMQ_SYS_BENCHMARK_TOPIC, 1024)
        rw = PERM_READ | PERM_WRITE
        self._system(b.broker_cluster_name, 16, PERM_INHERIT | (rw if b.cluster_topic_enable else 0))
        self._system(b.broker_name, 1, PERM_INHERIT | (rw if b.broker_topic_enable else 0))
        self._system(RMQ_SYS_OFFSET_MOVED_EVENT, 1)
        self._system(RMQ_SYS_SCHEDULE_TOPIC, SCHEDULE_TOPIC_QUEUE_NUM)
        if b.trace_topic_enable:
            self._system(b.msg_trace_topic_name, 1)
        self._system(reply_topic(b.broker_cluster_name), 1)

    # -- reads ---------------------------------------------------------------------------------------------------

    def select(self, topic: str) -> TopicConfig | None:
        return self.table.get(topic)

    def is_order_topic(self, topic: str) -> bool:
        config = self.table.get(topic)
        return config is not None and config.order

    def build_wrapper(self) -> TopicConfigSerializeWrapper:
        """buildTopicConfigSerializeWrapper, as a snapshot: later changes do not leak into a registration."""
        # TopicConfig holds only scalars: a shallow copy of each is a full snapshot, at a fraction of deepcopy's cost.
        return TopicConfigSerializeWrapper({k: copy.copy(v) for k, v in self.table.items()}, self.version_snapshot())

    def version_snapshot(self) -> DataVersion:
        return copy.copy(self.data_version)

    def encode(self) -> str:
        """topics.json: the same text as `TopicConfigSerializeWrapper(table, version).to_json()`, assembled from
        per-topic fragments that are re-encoded only for the topics changed since the last call (`_stale`), so
        that persisting after a create costs a join, not a whole JSON encode on the event loop (a flat cost per
        create up to 50,000 topics). Every change to `table` or to a config in it goes through this manager."""
        cache, table = self._fragments, self.table
        for name in self._stale:
            tc = table.get(name)
            if tc is None:
                cache.pop(name, None)
            else:
                cache[name] = fastjson.dumps({name: tc.to_obj()}).decode()[1:-1]
        self._stale.clear()
        if len(cache) != len(table) or list(cache) != list(table):  # a name deleted and added again moved
            self._fragments = cache = {name: cache[name] for name in table}
        version = fastjson.dumps(self.data_version.to_obj()).decode()
        return '{"dataVersion":' + version + ',"topicConfigTable":{' + ",".join(cache.values()) + "}}"

    # -- changes -------------------------------------------------------------------------------------------------

    def _changed(self, register: bool) -> None:
        self.data_version.next_version(self.clock_ms())
        self.on_persist()
        if register:
            self.on_register()

    def create_in_send_message(
        self, topic: str, default_topic: str, remote_addr: str, client_default_queue_nums: int, topic_sys_flag: int
    ) -> TopicConfig | None:
        """createTopicInSendMessageMethod: inherit from `default_topic` if it has the inherit bit."""
        existing = self.table.get(topic)
        if existing is not None:
            return existing
        default = self.table.get(default_topic)
        if default is None:
            log.warning(
                "Create new topic failed, because the default topic[%s] not exist. producer:[%s]",
                default_topic,
                remote_addr,
            )
            return None
        if default_topic == AUTO_CREATE_TOPIC_KEY_TOPIC and not self.broker.auto_create_topic_enable:
            default.perm = PERM_READ | PERM_WRITE  # Java strips the inherit bit of a stale TBW102 here
            self._stale[default_topic] = None
        if not default.perm & PERM_INHERIT:
            log.warning(
                "Create new topic failed, because the default topic[%s] has no perm [%d] producer:[%s]",
                default_topic,
                default.perm,
                remote_addr,
            )
            return None
        queues = max(0, min(client_default_queue_nums, default.write_queue_nums))
        config = TopicConfig(
            topic_name=topic,
            read_queue_nums=queues,
            write_queue_nums=queues,
            perm=default.perm & ~PERM_INHERIT,
            topic_filter_type=default.topic_filter_type,
            topic_sys_flag=topic_sys_flag,
        )
        log.info("Create new topic by default topic:[%s] config:[%s] producer:[%s]", default_topic, config, remote_addr)
        self.table[topic] = config
        self._stale[topic] = None
        self._changed(register=True)
        return config

    def create_in_send_message_back(self, topic: str, queue_nums: int, perm: int, topic_sys_flag: int) -> TopicConfig:
        """createTopicInSendMessageBackMethod: retry, DLQ and transaction topics, created as asked."""
        existing = self.table.get(topic)
        if existing is not None:
            return existing
        config = TopicConfig(
            topic_name=topic,
            read_queue_nums=queue_nums,
            write_queue_nums=queue_nums,
            perm=perm,
            topic_sys_flag=topic_sys_flag,
        )
        log.info("create new topic %s", config)
        self.table[topic] = config
        self._stale[topic] = None
        self._changed(register=True)
        return config

    def create_of_tran_check_max_time(self, queue_nums: int, perm: int) -> TopicConfig:
        """createTopicOfTranCheckMaxTime."""
        return self.create_in_send_message_back(RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC, queue_nums, perm, 0)

    def update_topic_config(self, config: TopicConfig) -> None:
        """updateTopicConfig (UPDATE_AND_CREATE_TOPIC): replace, bump, persist; the caller registers."""
        old = self.table.get(config.topic_name or "")
        self.table[config.topic_name or ""] = config
        self._stale[config.topic_name or ""] = None
        if old is not None:
            log.info("update topic config, old:[%s] new:[%s]", old, config)
        else:
            log.info("create new topic [%s]", config)
        self._changed(register=False)

    def delete_topic_config(self, topic: str) -> bool:
        if self.table.pop(topic, None) is None:
            log.warning("delete topic config failed, topic: %s not exists", topic)
            return False
        self._stale[topic] = None
        log.info("delete topic config OK, topic: %s", topic)
        self._changed(register=False)
        return True

    def update_order_topic_config(self, kv: KVTable | None) -> None:
        """updateOrderTopicConfig: the NameServer's ORDER_TOPIC_CONFIG namespace decides each topic's order flag."""
        if kv is None:
            return
        changed = False
        for topic, config in self.table.items():
            wanted = topic in kv.table
            if config.order != wanted:
                config.order = wanted
                self._stale[topic] = None
                changed = True
        if changed:
            self.data_version.next_version(self.clock_ms())
            self.on_persist()

    # -- persistence ---------------------------------------------------------------------------------------------

    def replace_all(self, wrapper: TopicConfigSerializeWrapper) -> bool:
        """SlaveSynchronize.syncTopicConfig: the master's table and DataVersion when its version differs."""
        if wrapper.data_version == self.data_version:
            return False
        self.data_version = wrapper.data_version
        self.table.clear()
        self._stale.clear()
        for name, config in wrapper.topic_config_table.items():
            if config.topic_name is None:
                config.topic_name = name
            self.table[name] = config
            self._stale[name] = None
        self.on_persist()
        return True

    def load(self, store: ConfigStore) -> bool:
        """ConfigManager.load: put the file's topics over the built-in ones and adopt its DataVersion."""
        wrapper = store.load(TOPICS_JSON, TopicConfigSerializeWrapper.from_json)
        if wrapper is None:
            return False
        for name, config in wrapper.topic_config_table.items():
            if config.topic_name is None:
                config.topic_name = name
            self.table[name] = config
            self._stale[name] = None
        self.data_version = wrapper.data_version
        return True

    def persist(self, store: ConfigStore) -> None:
        store.persist(TOPICS_JSON, self.encode())
