"""Delayed delivery out of SCHEDULE_TOPIC_XXXX (store.schedule.ScheduleMessageService, 4.9.8, sync deliver).

A message sent with DELAY=n sits in SCHEDULE_TOPIC_XXXX queue n-1; its consume-queue tags code is the deliver
time (store time + the level's delay). Per level a cursor walks that queue: an entry that is due is rebuilt for its
REAL_TOPIC / REAL_QID (messageTimeup) and appended again, and the level's offset (what delayOffset.json and
GET_ALL_DELAY_OFFSET report) moves past it. The stored properties string is the original's, so the delivered
record still carries DELAY, REAL_TOPIC and REAL_QID, as Java's does.

Pure logic, no trio: `due_in` is a cheap look at the next entry, `deliver_due` does the blocking part (reading
records, appending) and belongs in a worker thread; rocketpy.broker.schedule_loop drives both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from rocketpy.store.commitlog import MessageInner
from rocketpy.store.config_files import (
    dumps_delay_offsets,
    loads_delay_offsets,
    read_config_file,
    write_config_file,
)
from rocketpy.store.format import SCHEDULE_TOPIC, StoredMessage
from rocketpy.store.message_store import MessageStore

log = logging.getLogger("rocketpy.store")

PROPERTY_REAL_TOPIC = "REAL_TOPIC"
PROPERTY_REAL_QUEUE_ID = "REAL_QID"
TRANS_HALF_TOPIC = "RMQ_SYS_TRANS_HALF_TOPIC"
DELAY_OFFSET_FILE = "delayOffset.json"


def encode_offsets_compact(table: dict[int, int]) -> str:
    """DelayOffsetSerializeWrapper.toJson(false): `{"offsetTable":{1:3,4:2}}`, levels ascending (the order of a
    ConcurrentHashMap of small Integer keys)."""
    inner = ",".join(f"{level}:{offset}" for level, offset in sorted(table.items()))
    return '{"offsetTable":{' + inner + "}}"


class ScheduleMessageService:
    """Levels, per-level delivered offsets and cursors over SCHEDULE_TOPIC_XXXX; see the module docstring."""

    def __init__(self, store: MessageStore, clock_ms: Callable[[], int]) -> None:
        self.store = store
        self.clock_ms = clock_ms
        self.delay_table: dict[int, int] = dict(store.delay_table)
        self.offsets: dict[int, int] = {}  # offsetTable: advanced only by a delivery
        self.cursors: dict[int, int] = {}  # each DeliverDelayedMessageTimerTask's own offset

    @property
    def max_level(self) -> int:
        return max(self.delay_table, default=0)

    @property
    def path(self) -> Path:
        """StorePathConfigHelper.getDelayOffsetStorePath."""
        return self.store.config.config_dir / DELAY_OFFSET_FILE

    # -- persistence (ConfigManager) -----------------------------------------------------------------------------

    def load(self) -> None:
        """load(): delayOffset.json (or its .bak), then correctDelayOffset; the cursors start at the offsets."""
        table = read_config_file(self.path, loads_delay_offsets)
        if table:
            self.offsets.update(table)
        self.correct_offsets()
        self.cursors = {level: self.offsets.get(level, 0) for level in self.delay_table}

    def correct_offsets(self) -> None:
        """correctDelayOffset: an offset outside its queue's [min, max] is moved to the nearer bound."""
        for level in self.delay_table:
            current = self.offsets.get(level)
            cq = self.store.find_queue(SCHEDULE_TOPIC, level - 1)
            if current is None or cq is None:
                continue
            corrected = min(max(current, cq.min_offset), cq.max_offset)
            if corrected != current:
                log.error("correct delay offset [ delayLevel %d ] from %d to %d", level, current, corrected)
                self.offsets[level] = corrected

    def encode(self, pretty: bool = False) -> str:
        table = dict(sorted(self.offsets.items()))
        return dumps_delay_offsets(table) if pretty else encode_offsets_compact(table)

    def persist(self, text: str | None = None) -> None:
        """ConfigManager.persist (blocking): `text` is an encode(True) taken on the caller's side."""
        write_config_file(self.path, self.encode(True) if text is None else text)

    def running_stats(self) -> dict[str, str]:
        """buildRunningStats: `scheduleMessageOffset_<level>` = "<delivered offset>,<queue max offset>" per level
        in the table, for GET_BROKER_RUNTIME_INFO."""
        out = {}
        for level, offset in sorted(self.offsets.items()):
            queue_max = self.store.get_max_offset_in_queue(SCHEDULE_TOPIC, level - 1)
            out[f"scheduleMessageOffset_{level}"] = f"{offset},{queue_max}"
        return out

    # -- delivery (DeliverDelayedMessageTimerTask.executeOnTimeup) -----------------------------------------------

    def _correct_deliver_time(self, level: int, now: int, deliver: int) -> int:
        """correctDeliverTimestamp: a deliver time beyond now + the level's delay (a clock moved back) means now."""
        return now if deliver > now + self.delay_table[level] else deliver

    def _entry(self, level: int) -> tuple[int, int, int] | None:
        """The consume-queue entry at the level's cursor, the cursor first reset into the queue as Java does."""
        cq = self.store.find_queue(SCHEDULE_TOPIC, level - 1)
        if cq is None:
            return None
        cursor = self.cursors.get(level, 0)
        if cursor < cq.min_offset:
            log.error("schedule CQ offset invalid. offset=%d, cqMinOffset=%d, level=%d", cursor, cq.min_offset, level)
            cursor = self.cursors[level] = cq.min_offset
        elif cursor > cq.max_offset:
            log.error("schedule CQ offset invalid. offset=%d, cqMaxOffset=%d, level=%d", cursor, cq.max_offset, level)
            cursor = self.cursors[level] = cq.max_offset
        if cursor >= cq.max_offset:
            return None
        try:
            return cq.entry(cursor)
        except IndexError:
            return None

    def due_in(self, level: int) -> int | None:
        """Milliseconds until the level's next entry is due (0: now), None when nothing waits."""
        with self.store.lock:
            entry = self._entry(level)
        if entry is None:
            return None
        now = self.clock_ms()
        return max(0, self._correct_deliver_time(level, now, entry[2]) - now)

    def deliver_due(self, level: int) -> int:
        """Deliver every due entry from the level's cursor (blocking; a worker thread's job); returns how many
        were appended. Stops at the first entry not due yet or at a failed append, which is retried next time."""
        delivered = 0
        while True:
            with self.store.lock:  # held per message, so that sends interleave with a long backlog
                step = self._deliver_one(level)
            if step is None:
                return delivered
            delivered += step

    def _deliver_one(self, level: int) -> int | None:
        """One entry: 1 delivered, 0 skipped, None when the level must wait (not due, empty, or a failed append)."""
        entry = self._entry(level)
        if entry is None:
            return None
        phys, _size, tags = entry
        now = self.clock_ms()
        if self._correct_deliver_time(level, now, tags) > now:
            return None
        cursor = self.cursors[level]
        msg = self.store.look_message_by_offset(phys)
        inner = message_timeup(msg) if msg is not None else None
        if inner is None:  # the record is gone or unusable: skipped, the offset stays (Java's `continue`)
            self.cursors[level] = cursor + 1
            return 0
        result = self.store.put_message(inner)
        if not result.ok:
            log.error("delayed delivery of level %d offset %d failed: %s", level, cursor, result.status.name)
            return None
        self.cursors[level] = self.offsets[level] = cursor + 1
        return 1


def message_timeup(msg: StoredMessage) -> MessageInner | None:
    """messageTimeup: the stored message for its REAL_TOPIC / REAL_QID, body (still compressed), flag, sysflag,
    born and store hosts, born time and reconsumeTimes kept, the properties string unchanged. None for what Java
    discards (a real topic of RMQ_SYS_TRANS_HALF_TOPIC) or cannot rebuild (no REAL_TOPIC / REAL_QID: Java's
    task fails on it again and again; rocketpy logs and skips it)."""
    props = msg.property_map
    topic = props.get(PROPERTY_REAL_TOPIC)
    try:
        queue_id = int(props.get(PROPERTY_REAL_QUEUE_ID, ""))
    except ValueError:
        topic = None
    if topic is None:
        log.error("schedule message at %d has no REAL_TOPIC/REAL_QID: skipped", msg.phys_offset)
        return None
    if topic == TRANS_HALF_TOPIC:
        log.error("[BUG] the real topic of schedule msg is %s, discard the msg at %d", topic, msg.phys_offset)
        return None
    return MessageInner(
        topic=topic,
        queue_id=queue_id,
        body=msg.body,
        properties=msg.properties,
        flag=msg.flag,
        sys_flag=msg.sys_flag,
        born_timestamp=msg.born_timestamp,
        born_host=msg.born_host,
        store_host=msg.store_host,
        reconsume_times=msg.reconsume_times,
    )
