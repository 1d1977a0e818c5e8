"""ConsumerOffsetManager: committed offsets, `topic@group -> {queueId: offset}`, kept in config/consumerOffset.json.

Mirrors broker.offset.ConsumerOffsetManager. The file is what fastjson writes for the manager, integer queue ids
unquoted, which strict JSON rejects; the store's config_files module reads and writes that form:

    {"offsetTable":{"TopicTest@please_rename_unique_group_name_4":{0:250,1:249,2:250,3:251}}}

Java persists it every flushConsumerOffsetInterval (5 s) after a 10 s delay, and at shutdown. A commit never
touches the disk; `dirty` says whether a persist has anything new.
"""

from __future__ import annotations

import logging

from rocketpy.broker.persistence import CONSUMER_OFFSET_JSON, ConfigStore
from rocketpy.store import config_files

log = logging.getLogger("RocketmqBroker")

TOPIC_GROUP_SEPARATOR = "@"


def offset_key(topic: str, group: str) -> str:
    return f"{topic}{TOPIC_GROUP_SEPARATOR}{group}"


def split_key(key: str) -> tuple[str, str] | None:
    """topic and group of a key; Java's split("@") must give exactly two parts."""
    parts = key.split(TOPIC_GROUP_SEPARATOR)
    return (parts[0], parts[1]) if len(parts) == 2 else None


class ConsumerOffsetManager:
    def __init__(self) -> None:
        self.table: dict[str, dict[int, int]] = {}
        self.dirty = False

    def commit(self, client_host: str, group: str, topic: str, queue_id: int, offset: int) -> None:
        """commitOffset; a commit below the stored offset is allowed (and logged), as Java allows it."""
        queues = self.table.setdefault(offset_key(topic, group), {})
        previous = queues.get(queue_id)
        queues[queue_id] = offset
        self.dirty = True
        if previous is not None and offset < previous:
            log.warning(
                "[NOTIFYME]update consumer offset less than store. clientHost=%s, key=%s, queueId=%d, "
                "requestOffset=%d, storeOffset=%d",
                client_host,
                offset_key(topic, group),
                queue_id,
                offset,
                previous,
            )

    def query(self, group: str, topic: str, queue_id: int) -> int:
        """queryOffset: the stored offset, or -1."""
        return self.table.get(offset_key(topic, group), {}).get(queue_id, -1)

    def query_all(self, group: str, topic: str) -> dict[int, int] | None:
        return self.table.get(offset_key(topic, group))

    def which_topic_by_consumer(self, group: str) -> set[str]:
        return {parts[0] for key in self.table if (parts := split_key(key)) and parts[1] == group}

    def which_group_by_topic(self, topic: str) -> set[str]:
        return {parts[1] for key in self.table if (parts := split_key(key)) and parts[0] == topic}

    def clone_offset(self, src_group: str, dest_group: str, topic: str) -> None:
        offsets = self.table.get(offset_key(topic, src_group))
        if offsets is not None:
            self.table[offset_key(topic, dest_group)] = dict(offsets)
            self.dirty = True

    def remove_offset(self, group: str) -> None:
        """removeOffset (DELETE_SUBSCRIPTIONGROUP with removeOffset=true)."""
        for key in [k for k in self.table if (parts := split_key(k)) and parts[1] == group]:
            del self.table[key]
            log.warning("clean group offset %s", key)
            self.dirty = True

    def remove_topic(self, topic: str) -> None:
        """Drop every group's offsets of a deleted topic (5.x cleanOffsetByTopic; 4.9.8 leaves them behind)."""
        for key in [k for k in self.table if (parts := split_key(k)) and parts[0] == topic]:
            del self.table[key]
            self.dirty = True

    def encode(self) -> str:
        return config_files.dumps_consumer_offsets(self.table)

    def load(self, store: ConfigStore) -> bool:
        table = store.load(CONSUMER_OFFSET_JSON, config_files.loads_consumer_offsets)
        if table is None:
            return False
        self.table = table
        self.dirty = False
        return True

    def persist(self, store: ConfigStore) -> None:
        text = self.encode()
        self.dirty = False
        store.persist(CONSUMER_OFFSET_JSON, text)
