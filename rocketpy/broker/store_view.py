"""What the control plane needs from the message store, as plain callables (the store is wired in later).

ConsumerManageProcessor.queryConsumerOffset asks the store for a queue's min offset and whether message 0 is still
"in disk" (checkInDiskByConsumeOffset); AdminBrokerProcessor.deleteTopic asks it to drop the queues of topics no
longer configured (cleanUnusedTopic). The defaults describe an empty store: every queue is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _zero(topic: str, queue_id: int) -> int:
    return 0


def _not_in_disk(topic: str, queue_id: int, offset: int) -> bool:
    return False


def _keep_all(remaining_topics: set[str]) -> None:
    return None


@dataclass(slots=True)
class StoreView:
    min_offset_in_queue: Callable[[str, int], int] = _zero
    check_in_disk_by_consume_offset: Callable[[str, int, int], bool] = _not_in_disk
    clean_unused_topic: Callable[[set[str]], None] = _keep_all
