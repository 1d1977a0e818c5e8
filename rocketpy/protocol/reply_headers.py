"""The header of PUSH_REPLY_MESSAGE_TO_CLIENT (326): common.protocol.header.ReplyMessageRequestHeader (4.9.8).

The broker fills it from the replier's send header and pushes it, with the reply body, to the requesting client;
the Java client's ClientRemotingProcessor.receiveReplyMessage rebuilds the reply message from it. bornHost and
storeHost are "ip:port" text (InetAddress.getHostAddress() + ":" + port), not the stored binary form.
"""

from __future__ import annotations

from dataclasses import dataclass

from rocketpy.protocol.header import Header


@dataclass(slots=True, eq=False, repr=False)
class ReplyMessageRequestHeader(Header):
    producer_group: str
    topic: str
    default_topic: str
    default_topic_queue_nums: int
    queue_id: int
    sys_flag: int
    born_timestamp: int
    flag: int
    born_host: str
    store_host: str
    store_timestamp: int
    properties: str | None = None
    reconsume_times: int | None = None
    unit_mode: bool = False
