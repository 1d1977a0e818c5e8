"""A push consumer kept online on the broker for the length of a test module, built from raw frames: what the
broker sees of a DefaultMQPushConsumer (heartbeats every 20 s, committed offsets, answers to
CONSUME_MESSAGE_DIRECTLY) without a JVM or its rebalancing.

It answers CONSUME_MESSAGE_DIRECTLY as ClientRemotingProcessor.consumeMessageDirectly does for a concurrent
listener that returns CONSUME_SUCCESS (ConsumeMessageConcurrentlyService.consumeMessageDirectly), with a spent
time of 0 ms, and records each request it got so that a test can check what the broker relayed.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.message_record import decode_all
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RemotingCommand

HEARTBEAT_EVERY = 20.0  # seconds; the broker drops a channel silent for 120 s (ClientHousekeepingService)
DIRECT_RESULT = {"autoCommit": True, "consumeResult": "CR_SUCCESS", "order": False, "spentTimeMills": 0}


class OnlineConsumer:
    """Groups (name -> topic) subscribed with "*" from one client id; `offsets` are committed once at start."""

    def __init__(
        self, broker_addr: str, client_id: str, groups: Mapping[str, str], offsets: list[tuple[str, str, int, int]]
    ) -> None:
        host, port = broker_addr.rsplit(":", 1)
        self.client_id = client_id
        self.groups = dict(groups)
        self.direct_requests: list[dict[str, Any]] = []  # ext fields + the relayed message's topic and queue id
        self._sock = socket.create_connection((host, int(port)), timeout=10)
        self._decoder = FrameDecoder()
        self._opaque = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._replies: dict[int, RemotingCommand] = {}
        self._replied = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._serve, name="online-consumer", daemon=True)
        self._thread.start()
        self._request(RequestCode.HEART_BEAT, None, self._heartbeat_body())
        for group, topic, queue_id, offset in offsets:
            fields = {"consumerGroup": group, "topic": topic, "queueId": str(queue_id), "commitOffset": str(offset)}
            self._request(RequestCode.UPDATE_CONSUMER_OFFSET, fields, None)

    def _heartbeat_body(self) -> bytes:
        consumers = []
        for group, topic in self.groups.items():
            sub = {"classFilterMode": False, "codeSet": [], "expressionType": "TAG", "subString": "*"}
            sub.update({"subVersion": int(time.time() * 1000), "tagsSet": [], "topic": topic})
            consumers.append(
                {
                    "consumeFromWhere": "CONSUME_FROM_LAST_OFFSET",
                    "consumeType": "CONSUME_PASSIVELY",
                    "groupName": group,
                    "messageModel": "CLUSTERING",
                    "subscriptionDataSet": [sub],
                    "unitMode": False,
                }
            )
        body = {"clientID": self.client_id, "consumerDataSet": consumers, "producerDataSet": []}
        return json.dumps(body).encode()

    def _send(self, cmd: RemotingCommand) -> None:
        with self._lock:
            self._sock.sendall(encode(cmd))

    def _request(self, code: int, fields: dict[str, str] | None, body: bytes | None) -> RemotingCommand:
        cmd = RemotingCommand.request(code, fields, body)
        with self._lock:
            self._opaque += 1
            cmd.opaque = self._opaque
        self._send(cmd)
        deadline = time.monotonic() + 10
        with self._replied:
            while cmd.opaque not in self._replies:
                left = deadline - time.monotonic()
                assert left > 0, f"no reply to request {code}"
                self._replied.wait(left)
            reply = self._replies.pop(cmd.opaque)
        assert reply.code == ResponseCode.SUCCESS, (code, reply.code, reply.remark)
        return reply

    def _serve(self) -> None:
        self._sock.settimeout(0.5)
        beat_at = time.monotonic() + HEARTBEAT_EVERY
        while not self._stop.is_set():
            if time.monotonic() >= beat_at:
                beat_at = time.monotonic() + HEARTBEAT_EVERY
                self._send(RemotingCommand.request(RequestCode.HEART_BEAT, None, self._heartbeat_body()))
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            for cmd in self._decoder.feed(data):
                if cmd.is_response:
                    with self._replied:
                        self._replies[cmd.opaque] = cmd
                        self._replied.notify_all()
                elif not cmd.is_oneway:
                    self._send(self._answer(cmd))

    def _answer(self, cmd: RemotingCommand) -> RemotingCommand:
        if cmd.code != RequestCode.CONSUME_MESSAGE_DIRECTLY:
            reply = RemotingCommand.response(ResponseCode.REQUEST_CODE_NOT_SUPPORTED, f"{cmd.code} not supported")
        else:
            messages = decode_all(bytes(cmd.body or b""))
            seen = dict(cmd.ext_fields or {})
            seen["message"] = [(m.topic, m.queue_id, m.queue_offset) for m in messages]
            self.direct_requests.append(seen)
            reply = RemotingCommand.response(ResponseCode.SUCCESS, body=json.dumps(DIRECT_RESULT).encode())
        reply.opaque = cmd.opaque
        return reply

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()
