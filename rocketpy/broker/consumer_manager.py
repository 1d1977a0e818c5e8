"""ConsumerManager: consumer groups by name, and when their members must be told to rebalance.

Mirrors broker.client.ConsumerManager. Methods return the Notification list the caller sends (the broker-wide
notifyConsumerIdsChangedEnable switch is applied there); the per-group switch is passed in, as Java passes
isNotifyConsumerIdsChangedEnable from the SubscriptionGroupConfig.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from rocketpy.broker.client_manager import (
    CHANNEL_EXPIRED_TIMEOUT_MS,
    Channel,
    ClientChannelInfo,
    ConsumerGroupInfo,
    Notification,
)
from rocketpy.broker.consumer_filter import ConsumerFilterManager
from rocketpy.protocol.bodies.heartbeat import ConsumeFromWhere, ConsumeType, MessageModel, SubscriptionData

log = logging.getLogger("RocketmqBroker")


class ConsumerManager:
    def __init__(self, filters: ConsumerFilterManager | None = None) -> None:
        self.groups: dict[str, ConsumerGroupInfo] = {}
        # the REGISTER listener of DefaultConsumerIdsChangeListener: SQL92 expressions compiled per version
        self.filters = filters if filters is not None else ConsumerFilterManager()

    def get(self, group: str) -> ConsumerGroupInfo | None:
        return self.groups.get(group)

    def find_channel(self, group: str, client_id: str) -> ClientChannelInfo | None:
        info = self.groups.get(group)
        return None if info is None else info.find_channel(client_id)

    def find_subscription_data(self, group: str, topic: str) -> SubscriptionData | None:
        info = self.groups.get(group)
        return None if info is None else info.subscriptions.get(topic)

    def register(
        self,
        group: str,
        info: ClientChannelInfo,
        kind: tuple[ConsumeType | None, MessageModel | None, ConsumeFromWhere | None],
        subs: Iterable[SubscriptionData],
        notify_enabled: bool,
        now_ms: int,
    ) -> list[Notification]:
        """registerConsumer: add or refresh the channel and subscriptions; notify when either changed."""
        consume_type, model, from_where = kind
        subs = list(subs)  # read twice: the group's table and the filter listener
        group_info = self.groups.get(group)
        if group_info is None:
            group_info = self.groups[group] = ConsumerGroupInfo(group, consume_type, model, from_where)
        group_info.consume_type, group_info.message_model, group_info.consume_from_where = kind
        new_channel = group_info.update_channel(info, now_ms)
        new_subs = group_info.update_subscription(subs, now_ms)
        self.filters.register(group, subs)
        if (new_channel or new_subs) and notify_enabled:
            return [Notification(group, group_info.all_channels())]
        return []

    def unregister(self, group: str, channel: Channel, notify_enabled: bool) -> list[Notification]:
        """unregisterConsumer: drop the channel, the group with its last channel, and notify the rest."""
        group_info = self.groups.get(group)
        if group_info is None:
            return []
        group_info.channels.pop(channel, None)
        if not group_info.channels:
            del self.groups[group]
            log.info("unregister consumer ok, no any connection, and remove consumer group, %s", group)
        return [Notification(group, group_info.all_channels())] if notify_enabled else []

    def channel_closed(self, channel: Channel) -> list[Notification]:
        """doChannelCloseEvent: the channel leaves every group it was in; the remaining members are notified."""
        notes = []
        for group, group_info in list(self.groups.items()):
            if group_info.channels.pop(channel, None) is None:
                continue
            log.warning(
                "NETTY EVENT: remove not active channel[%s] from ConsumerGroupInfo groupChannelTable, "
                "consumer group: %s",
                channel.remote_addr,
                group,
            )
            if not group_info.channels:
                del self.groups[group]
            notes.append(Notification(group, group_info.all_channels()))
        return notes

    def scan_expired(self, now_ms: int) -> tuple[list[Channel], list[Notification]]:
        """scanNotActiveChannel: the expired channels (to close) and the groups whose members remain."""
        expired: list[Channel] = []
        notes = []
        for group, group_info in list(self.groups.items()):
            stale = [
                c for c, i in group_info.channels.items() if now_ms - i.last_update_ms > CHANNEL_EXPIRED_TIMEOUT_MS
            ]
            for channel in stale:
                del group_info.channels[channel]
                log.warning(
                    "SCAN: remove expired channel from ConsumerManager consumerTable. channel=%s, consumerGroup=%s",
                    channel.remote_addr,
                    group,
                )
            expired.extend(stale)
            if not group_info.channels:
                log.warning(
                    "SCAN: remove expired channel from ConsumerManager consumerTable, all clear, consumerGroup=%s",
                    group,
                )
                del self.groups[group]
            elif stale:
                notes.append(Notification(group, group_info.all_channels()))
        return expired, notes

    def query_topic_consume_by_who(self, topic: str) -> set[str]:
        return {group for group, info in self.groups.items() if topic in info.subscriptions}
