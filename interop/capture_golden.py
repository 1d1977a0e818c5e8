"""Capture golden RocketMQ frames from the official Java reference, for codec tests.

A recording TCP proxy sits between Java clients/brokers (4.9.8 clients, 4.9.7 broker) and the Java 4.9.7
NameServer (and, for HEART_BEAT/SEND_MESSAGE_V2, in front of the broker). Every request seen is paired with its
response by connection and opaque; up to two pairs per (scenario, code, serialisation) are written to
tests/data/golden/ as one file per frame (the complete frame, 4-byte length prefix included) plus index.json.

Run from the repository root (needs java and mvn, ~1 minute):  python -m interop.capture_golden
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from interop.golden_frames import ONEWAY_FLAG, RESPONSE_FLAG, Frame, FrameSplitter
from interop.harness import build as build_mod
from interop.harness import processes
from interop.harness.driver import run_admin_steps, run_driver

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "tests" / "data" / "golden"
PAIRS_PER_KEY = 2
SERIALIZATIONS = ("JSON", "ROCKETMQ")


@dataclass(frozen=True)
class Record:
    seq: int
    scenario: str
    link: str  # e.g. "client->namesrv"
    conn: int
    to_server: bool
    frame: Frame


class Recorder:
    """Thread-safe log of every frame crossing any proxy, tagged with the scenario running at the time."""

    def __init__(self) -> None:
        self.scenario = "setup"
        self.records: list[Record] = []
        self._lock = threading.Lock()

    def add(self, link: str, conn: int, to_server: bool, frame: Frame) -> None:
        with self._lock:
            self.records.append(Record(len(self.records), self.scenario, link, conn, to_server, frame))


class RecordingProxy:
    """Forwards 127.0.0.1:<port> to `upstream` byte for byte, recording complete frames in both directions."""

    _conn_ids = iter(range(1, 1 << 30))

    def __init__(self, peer: str, upstream: str, recorder: Recorder) -> None:
        self.peer, self.recorder = peer, recorder
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.addr = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            conn = next(self._conn_ids)
            threading.Thread(target=self._pump, args=(client, server, conn, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, conn, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, conn: int, to_server: bool) -> None:
        splitter = FrameSplitter()
        link = f"client->{self.peer}" if to_server else f"{self.peer}->client"
        try:
            while data := src.recv(65536):
                for frame in splitter.feed(data):
                    self.recorder.add(link, conn, to_server, frame)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                s.close()

    def close(self) -> None:
        self.listener.close()
        for s in self._sockets:
            s.close()


def _response_to(records: list[Record], i: int) -> Record | None:
    """The response to records[i]: same connection, other direction, response flag, same opaque."""
    req = records[i]
    opaque = req.frame.header()["opaque"]
    for r in records[i + 1 :]:
        if r.conn == req.conn and r.to_server != req.to_server:
            header = r.frame.header()
            if header["flag"] & RESPONSE_FLAG and header["opaque"] == opaque:
                return r
    return None


def _select(records: list[Record]) -> list[tuple[Record, Record | None]]:
    """The first PAIRS_PER_KEY requests per (scenario, link, code, serialisation, response code), with responses.

    Keying on the response code too keeps rarer answers (TOPIC_NOT_EXIST, NO_PERMISSION...) next to the common ones.
    """
    counts: dict[tuple[str, str, int, str, int | None], int] = {}
    pairs: list[tuple[Record, Record | None]] = []
    for i, rec in enumerate(records):
        header = rec.frame.header()
        if header["flag"] & RESPONSE_FLAG:
            continue
        response = None if header["flag"] & ONEWAY_FLAG else _response_to(records, i)
        answer = response.frame.header()["code"] if response else None
        key = (rec.scenario, rec.link, header["code"], rec.frame.serialize_type, answer)
        if counts.get(key, 0) >= PAIRS_PER_KEY:
            continue
        counts[key] = counts.get(key, 0) + 1
        pairs.append((rec, response))
    return pairs


def _entry(name: str, rec: Record, kind: str, pair_file: str | None) -> dict[str, Any]:
    header = rec.frame.header()
    return {
        "file": name,
        "code": header["code"],
        "flag": header["flag"],
        "serializeType": rec.frame.serialize_type,
        "direction": rec.link,
        "kind": kind,
        "scenario": rec.scenario,
        "pairedWith": pair_file,
        "length": len(rec.frame.raw),
        "bodyLength": rec.frame.body_length,
        "header": header,
    }


def write_golden(pairs: list[tuple[Record, Record | None]], out: Path) -> list[dict[str, Any]]:
    """Replace `out` with one .bin per frame and return the index entries."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    entries: list[dict[str, Any]] = []
    for n, (req, resp) in enumerate(pairs):
        code = req.frame.header()["code"]
        stem = f"{n:03d}-{req.scenario}-{code}"
        req_name = f"{stem}-request-{req.frame.serialize_type.lower()}.bin"
        resp_name = f"{stem}-response-{resp.frame.serialize_type.lower()}.bin" if resp else None
        (out / req_name).write_bytes(req.frame.raw)
        entries.append(_entry(req_name, req, "oneway" if resp is None else "request", resp_name))
        if resp is not None and resp_name is not None:
            (out / resp_name).write_bytes(resp.frame.raw)
            entries.append(_entry(resp_name, resp, "response", req_name))
    return entries


def _admin_steps(ns: str, suffix: str) -> list[dict[str, Any]]:
    mq = "mqadmin"
    return [
        {"op": mq, "args": ["updateKvConfig", "-n", ns, "-s", "golden_ns", "-k", f"k_{suffix}", "-v", "v1"]},
        {"op": "getKVConfig", "namespace": "golden_ns", "key": f"k_{suffix}"},
        {"op": "getKVListByNamespace", "namespace": "golden_ns"},
        {"op": mq, "args": ["deleteKvConfig", "-n", ns, "-s", "golden_ns", "-k", f"k_{suffix}"]},
        {"op": "getKVConfig", "namespace": "golden_ns", "key": f"k_{suffix}"},
        {"op": mq, "args": ["clusterList", "-n", ns]},
        {"op": mq, "args": ["topicList", "-n", ns]},
        {"op": "fetchTopicsByCluster", "cluster": "DefaultCluster"},
        {"op": mq, "args": ["getNamesrvConfig", "-n", ns]},
        {"op": "updateNameServerConfig", "key": "orderMessageEnable", "value": "false"},
        {"op": "updateNameServerConfig", "key": "configStorePath", "value": "/tmp/golden-refused"},
        {"op": "examineTopicRouteInfo", "topic": "GoldenNoSuchTopic"},
        {"op": mq, "args": ["wipeWritePerm", "-n", ns, "-b", "broker-a"]},
        {"op": mq, "args": ["addWritePerm", "-n", ns, "-b", "broker-a"]},
        {"op": "deleteTopicInNameServer", "topic": f"GoldenTopic{suffix}", "cluster": "DefaultCluster"},
    ]


def capture(out: Path) -> list[dict[str, Any]]:
    build = build_mod.prepare()
    recorder = Recorder()
    servers: list[processes.ServerProcess] = []
    proxies: list[RecordingProxy] = []
    with tempfile.TemporaryDirectory(prefix="golden-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            namesrv = processes.start_java_namesrv(build, tmp / "namesrv")
            servers.append(namesrv)
            ns_proxy = RecordingProxy("namesrv", namesrv.addr, recorder)
            proxies.append(ns_proxy)
            recorder.scenario = "broker-register-json"
            broker = processes.start_java_broker(build, tmp / "broker-a", ns_proxy.addr, broker_name="broker-a")
            servers.append(broker)
            recorder.scenario = "broker-register-rocketmq"
            servers.append(
                processes.start_java_broker(
                    build,
                    tmp / "broker-b",
                    ns_proxy.addr,
                    broker_name="broker-b",
                    jvm_props=["-Drocketmq.serialize.type=ROCKETMQ"],
                )
            )
            broker_proxy = RecordingProxy("broker", broker.addr, recorder)
            proxies.append(broker_proxy)
            for st in SERIALIZATIONS:
                _client_scenarios(build, tmp, recorder, ns_proxy.addr, broker_proxy.addr, st)
            # Graceful shutdown (SIGTERM): each broker's shutdown hook sends UNREGISTER_BROKER (104).
            recorder.scenario = "broker-unregister"
            for server in servers[:0:-1]:
                server.stop(grace=30)
        finally:
            for proxy in proxies:
                proxy.close()
            for server in reversed(servers):
                server.stop()
    return write_golden(_select(recorder.records), out)


def _client_scenarios(build: build_mod.JavaBuild, tmp: Path, recorder: Recorder, ns: str, broker: str, st: str) -> None:
    suffix = st.lower()
    topic = f"GoldenTopic{suffix}"
    recorder.scenario = f"client-{suffix}"
    args = {"namesrv": ns, "topic": topic, "count": "2"}
    run_driver(build, "produce-consume", args, tmp / f"driver-{suffix}", serialize_type=st)
    run_admin_steps(build, ns, _admin_steps(ns, suffix), tmp / f"admin-{suffix}", serialize_type=st)
    recorder.scenario = f"broker-calls-{suffix}"
    calls = {"namesrv": ns, "broker": broker, "broker-name": "broker-a", "topic": topic}
    run_driver(build, "broker-calls", calls, tmp / f"calls-{suffix}", serialize_type=st)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (replaced)")
    ns = parser.parse_args(argv)
    entries = capture(ns.out)
    index = {
        "format": "each .bin is one complete frame: int32 totalLength prefix, int32 serializeType<<24|headerLength, "
        "header, body (PROTOCOL.md section 1). direction: 'client' is the side that opened the connection (a broker "
        "registering with the NameServer is the client there); 'header' is decoded by interop/golden_frames.py",
        "reference": {"nameserver_and_broker": "4.9.7", "clients_and_tools": "4.9.8"},
        "generatedBy": "python -m interop.capture_golden",
        "frames": entries,
    }
    (ns.out / "index.json").write_text(json.dumps(index, indent=1, sort_keys=False) + "\n")
    print(f"wrote {len(entries)} frames to {ns.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
