"""Encoded GET_ROUTEINFO_BY_TOPIC answers, and their reply header from a template (issue 12).

Java's DefaultRequestProcessor.getRouteInfoByTopic picks the route up and serialises it with fastjson on every
request; clients ask every 30 s for each topic they use (MQClientInstance.updateTopicRouteInfoFromNameServer), so a
NameServer mostly answers the same few routes again and again. Here an answer is kept encoded per (topic, JSON form)
together with the route generation and order conf it was encoded under, and served while both are unchanged: the
same bytes a fresh pickup would give. Its reply header, a SUCCESS without remark or extFields, is the bytes
fastjson writes for RemotingCommand with only the opaque (and flag, version) filled in, instead of a dict through
the JSON encoder.
"""

from __future__ import annotations

from rocketpy.protocol.codes import CURRENT_VERSION, LanguageCode, ResponseCode, SerializeType
from rocketpy.remoting.command import RESPONSE_FLAG, RemotingCommand

ROUTE_CACHE_MAX = 100_000  # encoded routes kept; past it the cache starts afresh

_JSON = int(SerializeType.JSON)
_JAVA = int(LanguageCode.JAVA)
_SUCCESS = int(ResponseCode.SUCCESS)
# encode_json_header's output for such a reply (keys in fastjson's sorted order), with the three ints left open.
_HEADER = b'{"code":0,"flag":%d,"language":"JAVA","opaque":%d,"serializeTypeCurrentRPC":"JSON","version":%d}'


class RouteReply(RemotingCommand):
    """A SUCCESS reply carrying an encoded route; the connection sets its opaque and serialise type, then encodes."""

    __slots__ = ()

    def encode_header(self) -> bytes:
        if (
            self.serialize_type == _JSON
            and self.code == _SUCCESS
            and self.language == _JAVA
            and self.remark is None
            and self.ext_fields is None
        ):
            return _HEADER % (self.flag, self.opaque, self.version)
        return super().encode_header()


class RouteCache:
    """(topic, standard JSON) -> (route generation, order conf, encoded route)."""

    __slots__ = ("_answers",)

    def __init__(self) -> None:
        self._answers: dict[tuple[str, bool], tuple[int, str | None, bytes]] = {}

    def reply(self, topic: str, standard: bool, generation: int, order_conf: str | None) -> RouteReply | None:
        """The reply for a route encoded under this generation and order conf; None if there is none."""
        cached = self._answers.get((topic, standard))
        if cached is None or cached[0] != generation or cached[1] != order_conf:
            return None
        return RouteReply(_SUCCESS, _JAVA, CURRENT_VERSION, 0, RESPONSE_FLAG, None, None, cached[2])

    def put(self, topic: str, standard: bool, generation: int, order_conf: str | None, body: bytes) -> None:
        if len(self._answers) >= ROUTE_CACHE_MAX:
            self._answers.clear()
        self._answers[(topic, standard)] = (generation, order_conf, body)

    def __len__(self) -> int:
        return len(self._answers)
