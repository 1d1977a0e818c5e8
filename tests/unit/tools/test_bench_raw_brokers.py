"""tools/bench_raw.py --brokers N and --batch B: the option checks, the round-robin spreading over the brokers, the
bulk reply counting of the block sender and the labels of the measured processes (no benchmark is run)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from rocketpy.protocol.codes import ResponseCode
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RemotingCommand
from tools.bench_raw import (
    _CODE0,
    _REPLY,
    RawResult,
    Sender,
    build_parser,
    cores_line,
    cores_used,
    count_marks,
    machine_ticks,
    parse_args,
    process_label,
    request_frame,
    spread,
)


def test_brokers_is_documented_as_rocketpy_only() -> None:
    assert "rocketpy target only" in " ".join(build_parser().format_help().split())


def test_brokers_above_one_refuses_the_java_target(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--brokers", "2"], ["--brokers", "2", "--targets", "rocketpy,java"]):
        with pytest.raises(SystemExit) as exc:
            parse_args(argv)
        assert exc.value.code == 2
        assert "the Java reference runs one broker" in capsys.readouterr().err


def test_brokers_accepted_for_rocketpy_and_one_broker_for_both() -> None:
    args = parse_args(["--brokers", "2", "--targets", "rocketpy"])
    assert (args.brokers, args.depth, args.batch) == (2, 256, 0)
    assert parse_args(["--brokers", "1"]).brokers == 1
    assert parse_args([]).brokers is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--brokers", "0", "--targets", "rocketpy"], "1 to 26"),
        (["--brokers", "27", "--targets", "rocketpy"], "1 to 26"),
        (["--brokers", "2", "--targets", "rocketpy", "--phase", "route"], "send phase only"),
        (["--batch", "64", "--phase", "async"], "send phase only"),
        (["--batch", "100", "--depth", "256"], "multiple of --batch"),
        (["--batch", "256", "--depth", "256"], "at least twice"),
        (["--batch", "1024", "--depth", "4096"], "distinct opaques"),
        (["--batch", "-1"], "not negative"),
        (["--connections", "0"], "must be positive"),
        (["--targets", "jav"], "--targets"),
    ],
)
def test_bad_options_are_refused(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert message in capsys.readouterr().err


def test_spread_is_round_robin() -> None:
    addrs = ["127.0.0.1:10911", "127.0.0.1:10921", "127.0.0.1:10931"]
    assert spread(addrs, 7) == [*addrs, *addrs, addrs[0]]
    assert spread(addrs[:2], 4) == [addrs[0], addrs[1], addrs[0], addrs[1]]
    assert spread(addrs[:1], 3) == [addrs[0]] * 3
    assert spread(addrs, 2) == addrs[:2]


def test_the_send_frame_names_its_broker() -> None:
    (cmd,) = FrameDecoder().feed(request_frame("BenchSend", 1, 2, 8, 3, "broker-b"))
    assert cmd.ext_fields is not None and cmd.ext_fields["n"] == "broker-b"


def _reply(code: int, opaque: int) -> bytes:
    ext = {"msgId": "7F00000100002A9F0000000000000000", "queueId": "3", "queueOffset": "17"}
    cmd = RemotingCommand.response(code, None if code == ResponseCode.SUCCESS else "busy", ext)
    cmd.opaque = opaque
    return encode(cmd)


def test_count_marks_over_every_split_of_the_stream() -> None:
    codes = [ResponseCode.SUCCESS, ResponseCode.SYSTEM_BUSY, ResponseCode.SUCCESS, ResponseCode.SUCCESS]
    stream = b"".join(_reply(c, i) for i, c in enumerate(codes))
    for cut in range(len(stream) + 1):
        for cut2 in (cut, (cut + len(stream)) // 2):
            reads = [stream[:cut], stream[cut:cut2], stream[cut2:]]
            carry, total, ok = b"", 0, 0
            for data in reads:
                total += count_marks(carry, data, _REPLY)
                ok += count_marks(carry, data, _CODE0)
                carry = (carry + data[-(len(_CODE0) - 1) :])[-(len(_CODE0) - 1) :]
            assert (total, ok) == (4, 3), cut


@pytest.fixture
def echo_server() -> Iterator[tuple[str, int]]:
    """Answers each request frame with a SUCCESS reply of its opaque, in order, as a broker does."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        conn.settimeout(0.2)
        decoder = FrameDecoder()
        with conn:
            while not stop.is_set():
                try:
                    data = conn.recv(1 << 16)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                replies = b"".join(_reply(ResponseCode.SUCCESS, cmd.opaque) for cmd in decoder.feed(data))
                try:
                    conn.sendall(replies)
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[:2]
    stop.set()
    thread.join(5)
    listener.close()


@pytest.mark.parametrize("batch", [0, 8])
def test_both_senders_count_replies_and_time_them(echo_server: tuple[str, int], batch: int) -> None:
    frames = [request_frame("BenchSend", i % 8, i + 1, 16, i) for i in range(64)]
    sender = Sender(echo_server, frames, 32, batch)
    thread = threading.Thread(target=sender.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while sender.replies < 500 and time.monotonic() < deadline:
        time.sleep(0.01)
    sender.stop.set()
    thread.join(10)
    assert sender.error is None and sender.failed == 0 and sender.replies >= 500
    per_sample = batch or 1  # the block sender times blocks, not frames
    assert sender.replies // per_sample - 4 <= len(sender.latencies) <= sender.replies // per_sample
    assert all(ns > 0 for ns in sender.latencies)


def test_process_labels() -> None:
    assert process_label(["python", "-m", "rocketpy", "serve", "-c", "b.conf", "--brokers=2"]) == "serve (NameServer)"
    assert process_label(["python", "-m", "rocketpy", "serve", "-c", "b.conf"]) == "serve"
    child = ["python", "-m", "rocketpy", "--log-level", "INFO", "broker", "--brokerName=broker-b", "--listenPort=1"]
    assert process_label(child) == "broker-b"
    assert process_label(["java", "-cp", "x", "org.apache.rocketmq.broker.BrokerStartup", "-c", "b"]) == "java-broker"
    assert process_label(["java", "org.apache.rocketmq.namesrv.NamesrvStartup"]) == "java-namesrv"
    assert process_label([]) == "other"


def test_cores_used_per_process() -> None:
    before = {1: 10.0, 2: 5.0, 3: None}
    after = {1: 12.0, 2: 5.5, 3: 1.0}
    assert cores_used(before, after, 2.0) == {1: 1.0, 2: 0.25}
    assert cores_used(before, after, 0.0) == {}


def test_cores_line_names_every_process() -> None:
    r = RawResult("rocketpy", sender_cpu_us_per_msg=0.75, sender_sys_share=0.6)
    r.cores = {"serve (NameServer)": 0.01, "broker-a": 0.9, "broker-b": 0.85, "sender (this process)": 0.3}
    assert cores_line(r) == (
        "sender CPU 0.75 us/msg (60% in the kernel); cores used: serve (NameServer) 0.01, broker-a 0.90, "
        "broker-b 0.85, sender (this process) 0.30"
    )


def test_machine_ticks_counts_iowait_as_idle() -> None:
    stat = "cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 50 2 25 400 10 0 1 1 0 0\n"
    assert machine_ticks(stat) == (100 + 5 + 50 + 1 + 2 + 3, 820)
