"""RouteCache and RouteReply: the templated reply header must be what the general encoder writes."""

from __future__ import annotations

import pytest

from rocketpy.namesrv import route_cache
from rocketpy.namesrv.route_cache import RouteCache, RouteReply
from rocketpy.protocol.codes import CURRENT_VERSION, LanguageCode, ResponseCode, SerializeType
from rocketpy.remoting.codec import encode
from rocketpy.remoting.command import RESPONSE_FLAG, RemotingCommand


def _plain(reply: RemotingCommand) -> RemotingCommand:
    fields = (reply.code, reply.language, reply.version, reply.opaque, reply.flag, reply.remark, reply.ext_fields)
    return RemotingCommand(*fields, reply.body, reply.serialize_type)


@pytest.mark.parametrize("opaque", [0, 1, 7, 2**31 - 1, -(2**31)])
@pytest.mark.parametrize("ser", [SerializeType.JSON, SerializeType.ROCKETMQ])
def test_route_reply_encodes_like_any_command(opaque: int, ser: int) -> None:
    cache = RouteCache()
    cache.put("T", True, 3, None, b'{"brokerDatas":[]}')
    reply = cache.reply("T", True, 3, None)
    assert isinstance(reply, RouteReply)
    reply.opaque, reply.serialize_type, reply.flag = opaque, ser, reply.flag | RESPONSE_FLAG
    assert encode(reply) == encode(_plain(reply))


def test_route_reply_falls_back_when_it_is_not_a_plain_success() -> None:
    reply = RouteReply(ResponseCode.SUCCESS, LanguageCode.JAVA, CURRENT_VERSION, 5, RESPONSE_FLAG, None, None, b"x")
    reply.remark, reply.ext_fields, reply.version = "r", {"a": "b"}, 399
    assert encode(reply) == encode(_plain(reply))


def test_a_route_is_served_only_under_its_generation_and_order_conf(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = RouteCache()
    cache.put("T", True, 3, "broker-a:4", b"body")
    assert cache.reply("T", True, 3, "broker-a:4") is not None
    assert cache.reply("T", True, 4, "broker-a:4") is None
    assert cache.reply("T", True, 3, None) is None
    assert cache.reply("T", False, 3, "broker-a:4") is None
    monkeypatch.setattr(route_cache, "ROUTE_CACHE_MAX", 2)
    cache.put("U", True, 3, None, b"u")
    cache.put("V", True, 3, None, b"v")  # full: starts afresh
    assert len(cache) == 1 and cache.reply("V", True, 3, None) is not None
