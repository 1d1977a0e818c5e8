"""Errors that carry a RocketMQ response code.

A processor raises RocketMQError; the remoting server turns it into a response with that code and remark, the way
Java processors return `response.setCode(...)`. Any other exception becomes SYSTEM_ERROR with the exception text, as
NettyRemotingAbstract.processRequestCommand does.
"""

from __future__ import annotations

from rocketpy.protocol.codes import ResponseCode


class RocketMQError(Exception):
    """A failure with the response code and remark a Java client would observe."""

    def __init__(self, code: int, remark: str | None = None) -> None:
        super().__init__(remark or ResponseCode(code).name if code in ResponseCode._value2member_map_ else remark)
        self.code = int(code)
        self.remark = remark

    def __repr__(self) -> str:
        return f"RocketMQError(code={self.code}, remark={self.remark!r})"
