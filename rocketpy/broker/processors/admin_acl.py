"""The ACL admin codes of AdminBrokerProcessor (4.9.8), registered only when aclEnable=true.

UPDATE_AND_CREATE_ACL_CONFIG (50), DELETE_ACL_CONFIG (51) and UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53) rewrite an ACL
file (PlainPermissionManager); a refusal is 209 / 210 / 211 with the exception's message or Java's
"...has been updated failed." remark. GET_BROKER_CLUSTER_ACL_INFO (52) answers the files' data versions only.
GET_BROKER_CLUSTER_ACL_CONFIG (54), which returned every secret key, was removed in 4.9.8 (CVE-2024-23321) and is
answered as an unknown code. The RPC hook has already checked these requests (none of them is an admin code there).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import trio

from rocketpy.broker.acl.errors import AclError
from rocketpy.broker.processors.common import success
from rocketpy.common.java import split_commas
from rocketpy.protocol.acl_headers import (
    CreateAccessConfigRequestHeader,
    DeleteAccessConfigRequestHeader,
    GetBrokerAclConfigResponseHeader,
    UpdateGlobalWhiteAddrsConfigRequestHeader,
)
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext

if TYPE_CHECKING:
    from rocketpy.broker.acl_service import AclService
    from rocketpy.broker.config import BrokerSettings

log = logging.getLogger("RocketmqBroker")


def java_split(text: str | None) -> list[str] | None:
    """UtilAll.split(str, ","): String.split, which drops trailing empty strings."""
    if text is None:
        return None
    return split_commas(text)


def _java(value: str | None) -> str:
    return "null" if value is None else value


class AdminAclProcessor:
    def __init__(self, acl: AclService, settings: BrokerSettings) -> None:
        self.acl = acl
        self.settings = settings

    def handlers(self) -> dict[int, Handler]:
        return {
            RequestCode.UPDATE_AND_CREATE_ACL_CONFIG: self.update_and_create,
            RequestCode.DELETE_ACL_CONFIG: self.delete,
            RequestCode.GET_BROKER_CLUSTER_ACL_INFO: self.versions,
            RequestCode.UPDATE_GLOBAL_WHITE_ADDRS_CONFIG: self.update_global_white_addrs,
        }

    async def _run(self, fn: Callable[..., bool], *args: Any) -> bool:
        async with self.acl.lock:
            return await trio.to_thread.run_sync(fn, *args)

    async def update_and_create(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = CreateAccessConfigRequestHeader.from_ext_lenient(cmd.ext_fields)
        config = {
            "accessKey": h.access_key,
            "secretKey": h.secret_key,
            "whiteRemoteAddress": h.white_remote_address,
            "defaultTopicPerm": h.default_topic_perm,
            "defaultGroupPerm": h.default_group_perm,
            "topicPerms": java_split(h.topic_perms),
            "groupPerms": java_split(h.group_perms),
            "admin": h.admin,
        }
        failed = ResponseCode.UPDATE_AND_CREATE_ACL_CONFIG_FAILED
        try:
            if await self._run(self.acl.manager.update_access_config, config):
                return success()
        except (AclError, OSError, KeyError, TypeError, ValueError) as exc:
            log.error("Failed to generate a proper update accessvalidator response: %s", exc)
            return RemotingCommand.response(failed, str(exc))
        remark = f"The accesskey[{_java(h.access_key)}] corresponding to accessConfig has been updated failed."
        return RemotingCommand.response(failed, remark)

    async def delete(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = DeleteAccessConfigRequestHeader.from_ext_lenient(cmd.ext_fields)
        log.info("DeleteAccessConfig called by %s", ctx.connection.remote_addr)
        failed = ResponseCode.DELETE_ACL_CONFIG_FAILED
        try:
            if await self._run(self.acl.manager.delete_access_config, h.access_key):
                return success()
        except (AclError, OSError, KeyError, TypeError, ValueError) as exc:
            log.error("Failed to generate a proper delete accessvalidator response: %s", exc)
            return RemotingCommand.response(failed, str(exc))
        remark = f"The accesskey[{_java(h.access_key)}] corresponding to accessConfig has been deleted failed."
        return RemotingCommand.response(failed, remark)

    async def update_global_white_addrs(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = UpdateGlobalWhiteAddrsConfigRequestHeader.from_ext_lenient(cmd.ext_fields)
        failed = ResponseCode.UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED
        addresses = java_split(h.global_white_addrs)
        try:
            if await self._run(self.acl.manager.update_global_white_addrs, addresses, h.acl_file_full_path):
                return success()
        except (AclError, OSError, KeyError, TypeError, ValueError) as exc:
            log.error("Failed to generate a proper update globalWhiteAddresses response: %s", exc)
            return RemotingCommand.response(failed, str(exc))
        remark = f"The globalWhiteAddresses[{_java(h.global_white_addrs)}] has been updated failed."
        return RemotingCommand.response(failed, remark)

    async def versions(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        manager, b = self.acl.manager, self.settings.broker
        header = GetBrokerAclConfigResponseHeader(
            version=manager.version_json(),
            broker_name=b.broker_name,
            broker_addr=self.settings.broker_addr,
            cluster_name=b.broker_cluster_name,
            all_acl_file_version=manager.all_versions_json(),
        )
        return success(None, header.to_ext())
