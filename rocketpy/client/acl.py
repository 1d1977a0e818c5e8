"""The admin's ACL credentials and request signing: what mqadmin's AclUtils.getAclRPCHook and AclClientRPCHook do.

mqadmin reads `accessKey` / `secretKey` from ROCKETMQ_HOME/conf/tools.yml (MixAll.ACL_CONF_TOOLS_FILE) before every
command; a missing or unreadable file, or a blank key, means no hook at all (unsigned requests, as Java). With
credentials, every request (NameServer ones too) gets `AccessKey` and a `Signature` over its header fields and body.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml  # type: ignore[import-untyped]

from rocketpy.protocol.acl_signature import sign_request

log = logging.getLogger("RocketmqTools")

TOOLS_FILE = "conf/tools.yml"  # MixAll.ACL_CONF_TOOLS_FILE, under ROCKETMQ_HOME


@dataclass(frozen=True, slots=True)
class SessionCredentials:
    """acl.common.SessionCredentials (no security token: tools.yml has none)."""

    access_key: str
    secret_key: str

    def sign(self, ext_fields: dict[str, str], body: bytes | None) -> None:
        """AclClientRPCHook.doBeforeRequest: AccessKey, then the Signature over the fields and the body."""
        sign_request(ext_fields, body, self.access_key, self.secret_key)


def tools_credentials(environ: Mapping[str, str] | None = None) -> SessionCredentials | None:
    """AclUtils.getAclRPCHook(ROCKETMQ_HOME + "/conf/tools.yml"); blocking file I/O (call it off the event loop)."""
    env = os.environ if environ is None else environ
    home = env.get("ROCKETMQ_HOME")
    if not home:
        return None
    return credentials_from_file(Path(home) / TOOLS_FILE)


def credentials_from_file(path: Path) -> SessionCredentials | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeError, yaml.YAMLError) as exc:
        log.error("Convert yaml file to data object error, %s", exc)
        return None
    if not isinstance(data, dict) or not data:
        log.warning("Cannot find conf file :%s, acl isn't be enabled.", path)
        return None
    access_key, secret_key = _text(data.get("accessKey")), _text(data.get("secretKey"))
    if not access_key.strip() or not secret_key.strip():  # StringUtils.isBlank
        log.warning("AccessKey or secretKey is blank, the acl is not enabled.")
        return None
    return SessionCredentials(access_key, secret_key)


def _text(value: object) -> str:
    """JSONObject.getString: a YAML number or boolean as its text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
