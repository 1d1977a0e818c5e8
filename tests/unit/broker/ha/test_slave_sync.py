"""SlaveSynchronize against a master controller's own handlers, and the slave's wiring of REGISTER_BROKER answers."""

from __future__ import annotations

from pathlib import Path

from rocketpy.broker.config import BrokerRole
from rocketpy.broker.controller import BrokerController
from rocketpy.broker.ha.service import HAService
from rocketpy.broker.ha.slave_sync import SlaveSynchronize, vip_channel
from rocketpy.protocol.bodies.register import RegisterBrokerResult
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig
from rocketpy.protocol.bodies.topic_config import TopicConfig
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.command import RemotingCommand
from tests.unit.broker.conftest import Clock, call, make_controller

MASTER = "10.0.0.1:10911"


class MasterClient:
    """RemotingClient.invoke over the master's handlers; GET_ALL_DELAY_OFFSET answered as a master would."""

    def __init__(self, master: BrokerController) -> None:
        self.master = master
        self.asked: list[tuple[str, int]] = []

    async def invoke(self, addr: str, cmd: RemotingCommand, timeout: float = 3.0) -> RemotingCommand:
        self.asked.append((addr, cmd.code))
        if cmd.code == RequestCode.GET_ALL_DELAY_OFFSET:
            return RemotingCommand.response(ResponseCode.SUCCESS, body=b'{"offsetTable":{1:7}}')
        return await call(self.master, cmd.code, cmd.ext_fields, cmd.body)


async def test_sync_all_copies_the_masters_metadata(tmp_path: Path) -> None:
    master, slave = make_controller(Clock()), make_controller(Clock(1_700_000_009_000))
    master.topics.update_topic_config(TopicConfig(topic_name="T1", read_queue_nums=3, write_queue_nums=3, perm=6))
    master.groups.update(SubscriptionGroupConfig(group_name="G1"))
    master.offsets.commit("1.2.3.4:5", "G1", "T1", 2, 42)
    slave.offsets.commit("1.2.3.4:5", "G2", "T1", 0, 5)  # merged over, not replaced (putAll)
    delay = tmp_path / "config" / "delayOffset.json"
    sync = SlaveSynchronize("10.0.0.2:10911", slave.topics, slave.groups, slave.offsets, delay)
    client = MasterClient(master)

    await sync.sync_all(client)  # type: ignore[arg-type]
    assert client.asked == []  # no master known yet

    sync.master_addr = MASTER
    await sync.sync_all(client)  # type: ignore[arg-type]
    assert [code for _, code in client.asked] == [21, 43, 45, 201]
    assert client.asked[0][0] == vip_channel(MASTER) == "10.0.0.1:10909"
    assert slave.topics.table["T1"].read_queue_nums == 3
    assert slave.topics.data_version == master.topics.data_version
    assert "G1" in slave.groups.table and slave.groups.data_version == master.groups.data_version
    assert slave.offsets.query("G1", "T1", 2) == 42 and slave.offsets.query("G2", "T1", 0) == 5
    assert delay.read_text() == '{"offsetTable":{1:7}}'

    sync.master_addr = "10.0.0.2:10911"  # the slave itself: nothing is asked
    client.asked.clear()
    await sync.sync_all(client)  # type: ignore[arg-type]
    assert client.asked == []


def _service(ha_master_address: str | None) -> tuple[HAService, BrokerController]:
    controller = make_controller(Clock())
    s = controller.settings
    s.store.broker_role, s.broker.broker_id, s.store.ha_master_address = BrokerRole.SLAVE, 1, ha_master_address
    return HAService(s, None, controller, Path("/nonexistent/delayOffset.json")), controller  # type: ignore[arg-type]


def test_a_slave_follows_the_register_answers_unless_haMasterAddress_is_set() -> None:
    ha, controller = _service(None)
    assert controller.registration.on_result is not None
    controller.registration.on_result(RegisterBrokerResult("10.0.0.1:10912", "10.0.0.1:10911"))
    assert ha.slave is not None and ha.slave.master_address == "10.0.0.1:10912"
    assert ha.sync is not None and ha.sync.master_addr == "10.0.0.1:10911"

    ha, controller = _service("10.9.9.9:10912")
    assert controller.registration.on_result is not None
    controller.registration.on_result(RegisterBrokerResult("10.0.0.1:10912", "10.0.0.1:10911"))
    assert ha.slave is not None and ha.slave.master_address == "10.9.9.9:10912"  # the configured one stays
    assert ha.sync is not None and ha.sync.master_addr == "10.0.0.1:10911"

    ha, _ = _service("short")  # under 6 characters: ignored, as BrokerController.initialize does
    assert ha.slave is not None and ha.slave.master_address is None and ha.update_ha_address_periodically
