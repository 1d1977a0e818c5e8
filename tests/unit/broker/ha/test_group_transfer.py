"""HAMaster's group transfer: one acknowledgement answers every waiting put it covers, in one pass; one timer
answers FLUSH_SLAVE_TIMEOUT after slaveTimeout; no slave is SLAVE_NOT_AVAILABLE at once (HAService of 4.9.8)."""

from __future__ import annotations

from typing import cast

import trio

from rocketpy.broker.ha.master import HAMaster, HAMasterConfig, SlaveConnection
from rocketpy.store.config import PutMessageStatus
from rocketpy.store.message_store import MessageStore

OK, TIMEOUT = PutMessageStatus.PUT_OK, PutMessageStatus.FLUSH_SLAVE_TIMEOUT


def _master(timeout_ms: int = 3000) -> HAMaster:
    master = HAMaster(cast(MessageStore, None), HAMasterConfig(slave_timeout_ms=timeout_ms))
    master.connections.add(SlaveConnection("127.0.0.1:1"))
    return master


def test_one_acknowledgement_answers_every_covered_put_in_order() -> None:
    master = _master()
    answers: list[tuple[int, PutMessageStatus]] = []

    async def main() -> None:
        for offset in (100, 300, 200, 400):
            assert master.replica_later(offset, lambda s, o=offset: answers.append((o, s))) is None
        master.notify_transfer(300)
        assert answers == [(100, OK), (200, OK), (300, OK)]
        master.notify_transfer(250)  # an older report changes nothing
        master.notify_transfer(400)
        assert answers[-1] == (400, OK)
        assert master.replica_later(400, answers.append) is OK  # already there
        master.connections.clear()
        assert master.replica_later(500, answers.append) is PutMessageStatus.SLAVE_NOT_AVAILABLE

    trio.run(main)


def test_the_timer_answers_what_no_slave_acknowledged() -> None:
    master = _master(timeout_ms=1000)
    answers: list[tuple[int, PutMessageStatus]] = []

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(master.run_timer)
            await trio.sleep(0.5)
            master.replica_later(300, lambda s: answers.append((300, s)))
            await trio.sleep(0.5)
            master.replica_later(100, lambda s: answers.append((100, s)))
            master.replica_later(400, lambda s: answers.append((400, s)))
            master.notify_transfer(200)
            assert answers == [(100, OK)]
            await trio.sleep(0.6)  # 300 is due (1.5 s), 400 not yet (2.0 s)
            assert answers == [(100, OK), (300, TIMEOUT)]
            await trio.sleep(0.5)
            assert answers == [(100, OK), (300, TIMEOUT), (400, TIMEOUT)]
            master.notify_transfer(400)  # a late acknowledgement answers nobody twice
            assert len(answers) == 3
            assert await master.wait_replica(300) is OK
            with trio.move_on_after(5):
                assert await master.wait_replica(500) is TIMEOUT
            nursery.cancel_scope.cancel()

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
