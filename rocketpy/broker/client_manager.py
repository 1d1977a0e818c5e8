"""Producer and consumer tables, filled by heartbeats and emptied by unregister, close and expiry.

Mirrors broker.client.ProducerManager, ConsumerManager, ConsumerGroupInfo and ClientChannelInfo. Pure state: the
methods take the time in milliseconds and return what must be told to clients (`Notification`: a group whose
members must rebalance, with the channels to send NOTIFY_CONSUMER_IDS_CHANGED to); the controller does the sending.

A channel is any object with `remote_addr`, `closed`, `invoke_oneway(cmd)` and `aclose()`: the remoting
Connection, or a fake in tests. Channels expire after CHANNEL_EXPIRED_TIMEOUT_MS without a heartbeat
(ClientHousekeepingService scans every 10 s). Java does not notify the rest of a consumer group when a channel
expires (the close it triggers finds the channel already gone); rocketpy does, so the group rebalances at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from rocketpy.protocol.bodies.consumer import Connection, ProducerInfo, ProducerTableInfo
from rocketpy.protocol.bodies.heartbeat import ConsumeFromWhere, ConsumeType, MessageModel, SubscriptionData
from rocketpy.remoting.command import RemotingCommand

log = logging.getLogger("RocketmqBroker")

CHANNEL_EXPIRED_TIMEOUT_MS = 120_000
GET_AVAILABLE_CHANNEL_RETRY_COUNT = 3


class Channel(Protocol):
    remote_addr: str
    closed: bool

    async def invoke_oneway(self, cmd: RemotingCommand) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(slots=True, eq=False)
class ClientChannelInfo:
    channel: Channel
    client_id: str
    language: int
    version: int
    last_update_ms: int = 0

    def connection(self) -> Connection:
        return Connection(self.client_id, self.channel.remote_addr, self.language, self.version)


@dataclass(frozen=True, slots=True)
class Notification:
    """NOTIFY_CONSUMER_IDS_CHANGED for `group`, to each of `channels`."""

    group: str
    channels: tuple[Channel, ...]


class ProducerManager:
    def __init__(self) -> None:
        self.groups: dict[str, dict[Channel, ClientChannelInfo]] = {}
        self.client_channels: dict[str, Channel] = {}
        self._check_counter = 0

    def register(self, group: str, info: ClientChannelInfo, now_ms: int) -> None:
        channels = self.groups.setdefault(group, {})
        found = channels.get(info.channel)
        if found is None:
            info.last_update_ms = now_ms
            channels[info.channel] = info
            self.client_channels[info.client_id] = info.channel
            log.info("new producer connected, group: %s channel: %s", group, info.channel.remote_addr)
        else:
            found.last_update_ms = now_ms

    def unregister(self, group: str, channel: Channel, client_id: str) -> None:
        channels = self.groups.get(group)
        if not channels:
            return
        channels.pop(channel, None)
        self.client_channels.pop(client_id, None)
        if not channels:
            del self.groups[group]

    def channel_closed(self, channel: Channel) -> None:
        """doChannelCloseEvent. Java keeps a group whose last channel closed; so do we (the expiry scan too)."""
        for channels in self.groups.values():
            info = channels.pop(channel, None)
            if info is not None:
                self.client_channels.pop(info.client_id, None)

    def scan_expired(self, now_ms: int) -> list[Channel]:
        """scanNotActiveChannel: drop channels silent for too long and return them for closing."""
        expired = []
        for group, channels in self.groups.items():
            for channel, info in list(channels.items()):
                if now_ms - info.last_update_ms > CHANNEL_EXPIRED_TIMEOUT_MS:
                    del channels[channel]
                    self.client_channels.pop(info.client_id, None)
                    log.warning(
                        "SCAN: remove expired channel[%s] from ProducerManager groupChannelTable, "
                        "producer group name: %s",
                        channel.remote_addr,
                        group,
                    )
                    expired.append(channel)
        return expired

    def connections(self, group: str) -> list[Connection] | None:
        channels = self.groups.get(group)
        return None if channels is None else [info.connection() for info in channels.values()]

    def producer_table(self) -> ProducerTableInfo:
        """getProducerTable; remoteIP is Netty's SocketAddress.toString(), "/ip:port"."""
        data = {}
        for group, channels in self.groups.items():
            data[group] = [
                ProducerInfo(i.client_id, "/" + i.channel.remote_addr, i.language, i.version, i.last_update_ms)
                for i in channels.values()
            ]
        return ProducerTableInfo(data)

    def find_channel(self, client_id: str) -> Channel | None:
        return self.client_channels.get(client_id)

    def available_channel(self, group: str) -> Channel | None:
        """getAvailableChannel: the group's channels in turn (a counter, as Java's), trying at most 3 of them, so
        that transaction checks spread over the group's producers."""
        channels = list(self.groups.get(group, {}))
        if not channels:
            log.warning("Check transaction failed, channel table is empty. groupId=%s", group)
            return None
        self._check_counter += 1
        index = self._check_counter % len(channels)
        for _ in range(GET_AVAILABLE_CHANNEL_RETRY_COUNT):
            if not channels[index].closed:
                return channels[index]
            index = (index + 1) % len(channels)
        return None


@dataclass(slots=True, eq=False)
class ConsumerGroupInfo:
    group_name: str
    consume_type: ConsumeType | None
    message_model: MessageModel | None
    consume_from_where: ConsumeFromWhere | None
    subscriptions: dict[str, SubscriptionData] = field(default_factory=dict)
    channels: dict[Channel, ClientChannelInfo] = field(default_factory=dict)
    last_update_ms: int = 0

    def all_channels(self) -> tuple[Channel, ...]:
        return tuple(self.channels)

    def all_client_ids(self) -> list[str]:
        return [info.client_id for info in self.channels.values()]

    def find_channel(self, client_id: str) -> ClientChannelInfo | None:
        return next((i for i in self.channels.values() if i.client_id == client_id), None)

    def update_channel(self, info: ClientChannelInfo, now_ms: int) -> bool:
        """updateChannel: True when the channel is new to the group."""
        old = self.channels.get(info.channel)
        updated = old is None
        if old is None:
            self.channels[info.channel] = old = info
            log.info(
                "new consumer connected, group: %s %s %s channel: %s",
                self.group_name,
                self.consume_type,
                self.message_model,
                info.channel.remote_addr,
            )
        elif old.client_id != info.client_id:
            log.error(
                "[BUG] consumer channel exist in broker, but clientId not equal. GROUP: %s OLD: %s NEW: %s",
                self.group_name,
                old.client_id,
                info.client_id,
            )
            self.channels[info.channel] = old = info
        self.last_update_ms = now_ms
        old.last_update_ms = now_ms
        return updated

    def update_subscription(self, subs: Iterable[SubscriptionData], now_ms: int) -> bool:
        """updateSubscription: True when a topic was added or removed; a newer subVersion replaces silently."""
        updated = False
        wanted = {}
        for sub in subs:
            topic = sub.topic or ""
            wanted[topic] = sub
            old = self.subscriptions.get(topic)
            if old is None:
                self.subscriptions[topic] = sub
                updated = True
            elif sub.sub_version > old.sub_version:
                self.subscriptions[topic] = sub
        for topic in [t for t in self.subscriptions if t not in wanted]:
            log.warning("subscription changed, group: %s remove topic %s", self.group_name, topic)
            del self.subscriptions[topic]
            updated = True
        self.last_update_ms = now_ms
        return updated
