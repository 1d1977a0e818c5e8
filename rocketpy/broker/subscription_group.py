"""SubscriptionGroupManager: consumer-group configs, auto-created on heartbeat, kept in config/subscriptionGroup.json.

Mirrors broker.subscription.SubscriptionGroupManager (4.9.8). The built-in groups are TOOLS_CONSUMER,
FILTERSRV_CONSUMER, SELF_TEST_C_GROUP and four ONS groups with consumeBroadcastEnable (all defaults otherwise).
`find` creates a missing group when autoCreateSubscriptionGroup is on, or always for CID_RMQ_SYS_* groups, exactly
as findSubscriptionGroupConfig does; a name that is not a legal group name is never created (it would become the
`%RETRY%` topic's name, a NameServer key and a store directory).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from rocketpy.broker.config import BrokerConfig
from rocketpy.broker.persistence import SUBSCRIPTION_GROUP_JSON, ConfigStore
from rocketpy.broker.topic_validator import GROUP_MAX_LENGTH, is_sys_consumer_group, is_topic_or_group_illegal
from rocketpy.protocol.bodies.data_version import DataVersion
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig, SubscriptionGroupWrapper

log = logging.getLogger("RocketmqBroker")

BUILT_IN_GROUPS = ("TOOLS_CONSUMER", "FILTERSRV_CONSUMER", "SELF_TEST_C_GROUP")
BUILT_IN_BROADCAST_GROUPS = (
    "CID_ONS-HTTP-PROXY",
    "CID_ONSAPI_PULL",
    "CID_ONSAPI_PERMISSION",
    "CID_ONSAPI_OWNER",
)


def _nothing() -> None:
    return None


def is_legal_group(group: str) -> bool:
    return bool(group.strip()) and not is_topic_or_group_illegal(group) and len(group) <= GROUP_MAX_LENGTH


class SubscriptionGroupManager:
    def __init__(
        self, broker: BrokerConfig, clock_ms: Callable[[], int], *, on_persist: Callable[[], None] = _nothing
    ) -> None:
        self.broker = broker
        self.clock_ms = clock_ms
        self.on_persist = on_persist
        self.table: dict[str, SubscriptionGroupConfig] = {}
        self.data_version = DataVersion(timestamp=clock_ms())
        for name in BUILT_IN_GROUPS:
            self.table[name] = SubscriptionGroupConfig(group_name=name)
        for name in BUILT_IN_BROADCAST_GROUPS:
            self.table[name] = SubscriptionGroupConfig(group_name=name, consume_broadcast_enable=True)

    def _changed(self) -> None:
        self.data_version.next_version(self.clock_ms())
        self.on_persist()

    def get(self, group: str) -> SubscriptionGroupConfig | None:
        return self.table.get(group)

    def find(self, group: str) -> SubscriptionGroupConfig | None:
        """findSubscriptionGroupConfig: the group's config, auto-created when allowed."""
        config = self.table.get(group)
        if config is not None:
            return config
        if not (self.broker.auto_create_subscription_group or is_sys_consumer_group(group)):
            return None
        if not is_legal_group(group):
            log.warning("refusing to auto-create subscription group with an illegal name %r", group)
            return None
        config = SubscriptionGroupConfig(group_name=group)
        self.table[group] = config
        log.info("auto create a subscription group, %s", config)
        self._changed()
        return config

    def update(self, config: SubscriptionGroupConfig) -> None:
        """updateSubscriptionGroupConfig (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP)."""
        name = config.group_name or ""
        old = self.table.get(name)
        self.table[name] = config
        if old is not None:
            log.info("update subscription group config, old: %s new: %s", old, config)
        else:
            log.info("create new subscription group, %s", config)
        self._changed()

    def disable_consume(self, group: str) -> None:
        config = self.table.get(group)
        if config is not None:
            config.consume_enable = False
            self.data_version.next_version(self.clock_ms())

    def delete(self, group: str) -> bool:
        if self.table.pop(group, None) is None:
            log.warning("delete subscription group failed, subscription groupName: %s not exist", group)
            return False
        log.info("delete subscription group OK, subscription group: %s", group)
        self._changed()
        return True

    def encode(self) -> str:
        return SubscriptionGroupWrapper(self.table, self.data_version).to_json().decode()

    def replace_all(self, wrapper: SubscriptionGroupWrapper) -> bool:
        """SlaveSynchronize.syncSubscriptionGroupConfig: the master's table when its DataVersion differs."""
        if wrapper.data_version == self.data_version:
            return False
        self.data_version = wrapper.data_version
        self.table.clear()
        for name, config in wrapper.subscription_group_table.items():
            if config.group_name is None:
                config.group_name = name
            self.table[name] = config
        self.on_persist()
        return True

    def load(self, store: ConfigStore) -> bool:
        wrapper = store.load(SUBSCRIPTION_GROUP_JSON, SubscriptionGroupWrapper.from_json)
        if wrapper is None:
            return False
        for name, config in wrapper.subscription_group_table.items():
            if config.group_name is None:
                config.group_name = name
            self.table[name] = config
        self.data_version = wrapper.data_version
        return True

    def persist(self, store: ConfigStore) -> None:
        store.persist(SUBSCRIPTION_GROUP_JSON, self.encode())
