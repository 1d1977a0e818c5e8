"""AclException, and the remark a client sees when it escapes the broker's RPC hook.

NettyRemotingAbstract.processRequestCommand catches what doBeforeRpcHooks throws and answers SYSTEM_ERROR with
RemotingHelper.exceptionSimpleDesc: the exception's toString plus its first stack frame. The frames named here are
those of the 4.9.8 rocketmq-acl sources (PlainPermissionManager / PlainAccessValidator line numbers).
"""

from __future__ import annotations

from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError

ACL_EXCEPTION = "org.apache.rocketmq.acl.common.AclException"
_PPM = "org.apache.rocketmq.acl.plain.PlainPermissionManager"
_PAV = "org.apache.rocketmq.acl.plain.PlainAccessValidator"

# Where each refusal is thrown in 4.9.8 (class.method(File.java:line)).
AT_NO_ACCESS_KEY = f"{_PPM}.validate(PlainPermissionManager.java:664)"
AT_NO_ACL_CONFIG = f"{_PPM}.validate(PlainPermissionManager.java:668)"
AT_NO_RESOURCE = f"{_PPM}.validate(PlainPermissionManager.java:675)"
AT_SIGNATURE = f"{_PPM}.validate(PlainPermissionManager.java:684)"
AT_NEED_ADMIN = f"{_PPM}.checkPerm(PlainPermissionManager.java:581)"
AT_NO_DEFAULT_PERM = f"{_PPM}.checkPerm(PlainPermissionManager.java:606)"
AT_NO_PERM = f"{_PPM}.checkPerm(PlainPermissionManager.java:611)"
AT_PARSE = f"{_PAV}.parse(PlainAccessValidator.java:134)"


class AclError(Exception):
    """org.apache.rocketmq.acl.common.AclException: `message`, thrown at `where` (a Java stack frame, or None)."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def simple_desc(self) -> str:
        """RemotingHelper.exceptionSimpleDesc of the Java exception."""
        text = f"{ACL_EXCEPTION}: {self.message}"
        return f"{text}, {self.where}" if self.where else text

    def as_response_error(self) -> RocketMQError:
        """What the RPC hook's exception becomes on the wire: SYSTEM_ERROR (1) with the simple description."""
        return RocketMQError(ResponseCode.SYSTEM_ERROR, self.simple_desc())
