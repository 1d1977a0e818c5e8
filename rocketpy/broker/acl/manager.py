"""PlainPermissionManager of 4.9.8: the accounts of every ACL file, validation, and the file rewrites behind the ACL
admin codes.

Files: `<home>/conf/plain_acl.yml` (`rocketmq.acl.plain.file` names another one relative to home) and every
`.yml`/`.yaml` under `<home>/conf/acl/`. An access key is owned by the first file that defines it. State is kept
per file as Java keeps it, so that a reload of one changed file (`load_file`) has Java's visible effects, e.g. an
account removed from a file is then refused with "No PlainAccessResource for accessKey=...".

Blocking file I/O: call from a worker thread. Differences from Java, all stricter: a file that cannot be loaded at
start is an error (Java's ServiceProvider drops the validator and the broker runs without ACL), and a reload that
fails leaves the previous state untouched instead of half-applied.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rocketpy.broker.acl.addresses import AddressStrategy, address_strategy
from rocketpy.broker.acl.errors import (
    AT_NEED_ADMIN,
    AT_NO_ACCESS_KEY,
    AT_NO_ACL_CONFIG,
    AT_NO_DEFAULT_PERM,
    AT_NO_PERM,
    AT_NO_RESOURCE,
    AT_SIGNATURE,
    AclError,
)
from rocketpy.broker.acl.permission import (
    ADMIN_CODES,
    PUB,
    check_permission,
    check_resource_perms,
    is_retry_topic,
    parse_perm,
    parse_resource_perms,
    print_resource,
)
from rocketpy.broker.acl.resource import AccessRequest
from rocketpy.broker.acl.yaml_file import read_yaml, write_yaml
from rocketpy.protocol.acl_signature import calc_signature

log = logging.getLogger("RocketmqCommon")

DEFAULT_PLAIN_FILE = "conf/plain_acl.yml"
RMQ_SYS_TRACE_TOPIC = "RMQ_SYS_TRACE_TOPIC"
KEY_MIN_LENGTH = 6
FILE_KEYS = frozenset({"globalWhiteRemoteAddresses", "accounts", "dataVersion"})
ACCOUNT_KEYS = frozenset(
    {
        "accessKey",
        "secretKey",
        "whiteRemoteAddress",
        "admin",
        "defaultTopicPerm",
        "defaultGroupPerm",
        "topicPerms",
        "groupPerms",
    }
)


@dataclass(slots=True)
class Version:
    """DataVersion of one ACL file: `new DataVersion()` is stamped with the current time and counter 0."""

    timestamp: int
    counter: int = 0

    def to_obj(self) -> dict[str, int]:
        return {"counter": self.counter, "timestamp": self.timestamp}


@dataclass(slots=True, eq=False)
class Account:
    """PlainAccessResource built from one `accounts` entry (PlainAccessConfig)."""

    access_key: str
    secret_key: str
    white_remote_address: str | None
    admin: bool
    default_topic_perm: int
    default_group_perm: int
    perms: dict[str, int] | None
    address: AddressStrategy


def _text(value: Any) -> str | None:
    """fastjson's conversion of a YAML scalar to a String field."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value) if isinstance(value, int) else False


def _list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _sequence(data: Mapping[str, Any], key: str, path: str) -> list[Any]:
    """A list-valued key (absent or null: empty); Java's getJSONArray fails on anything else, and so does this."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise AclError(f"{key} in {path} is not a list")
    return value


def check_keys(access_key: str | None, secret_key: str | None) -> None:
    """PlainPermissionManager.checkPlainAccessConfig."""
    if access_key is None or secret_key is None or min(len(access_key), len(secret_key)) <= KEY_MIN_LENGTH:
        raise AclError(
            f"The accessKey={_null(access_key)} and secretKey={_null(secret_key)} cannot be null "
            "and length should longer than 6"
        )


def _null(value: str | None) -> str:
    return "null" if value is None else value


def build_account(entry: Mapping[str, Any]) -> Account:
    """buildPlainAccessResource: an AclError for short keys and malformed perms or address patterns."""
    access_key, secret_key = _text(entry.get("accessKey")), _text(entry.get("secretKey"))
    check_keys(access_key, secret_key)
    assert access_key is not None and secret_key is not None
    perms: dict[str, int] = {}
    parse_resource_perms(_list(entry.get("groupPerms")), False, perms)
    parse_resource_perms(_list(entry.get("topicPerms")), True, perms)
    white = _text(entry.get("whiteRemoteAddress"))
    return Account(
        access_key=access_key,
        secret_key=secret_key,
        white_remote_address=white,
        admin=_bool(entry.get("admin")),
        default_topic_perm=parse_perm(_text(entry.get("defaultTopicPerm"))),
        default_group_perm=parse_perm(_text(entry.get("defaultGroupPerm"))),
        perms=perms or None,
        address=address_strategy(white),
    )


@dataclass(slots=True)
class _FileData:
    whites: list[AddressStrategy] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    version: Version | None = None


class PlainPermissionManager:
    def __init__(
        self, home: str, plain_file: str = DEFAULT_PLAIN_FILE, *, clock_ms: Callable[[], int] | None = None
    ) -> None:
        if not home:
            raise AclError("no ROCKETMQ_HOME: the ACL files cannot be found")
        self.home = home
        self.clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.acl_dir = os.path.normpath(os.path.join(home, "conf", "acl"))
        self.default_file = os.path.normpath(home + os.sep + plain_file)
        self.accounts_by_file: dict[str, dict[str, Account]] = {}
        self.key_table: dict[str, str] = {}
        self.global_whites: list[AddressStrategy] = []
        self.global_whites_by_file: dict[str, list[AddressStrategy]] = {}
        self.versions: dict[str, Version] = {}
        self.version = Version(self.clock_ms())  # the deprecated single dataVersion: the default file's
        self.files: list[str] = []

    # -- files ---------------------------------------------------------------------------------------------------

    def list_files(self) -> list[str]:
        """getAllAclFiles(conf/acl) plus the default file; sorted, where Java takes the directory's order."""
        found: list[str] = []
        tools = self.home + "/conf/tools.yml"

        def walk(path: str) -> None:
            if not os.path.exists(path):
                return
            for name in sorted(os.listdir(path)):
                full = os.path.abspath(os.path.join(path, name))
                if full == tools:
                    continue
                if full.endswith((".yml", ".yaml")):
                    found.append(full)
                elif os.path.isdir(full):
                    walk(full)

        walk(self.acl_dir)
        if os.path.exists(self.default_file) and self.default_file not in found:
            found.append(self.default_file)
        return found

    def snapshot(self) -> dict[str, float]:
        """Modification times of the ACL files: AclFileWatchService compares them every 5 s."""
        out: dict[str, float] = {}
        for path in self.list_files():
            try:
                out[path] = os.stat(path).st_mtime_ns
            except OSError:
                out[path] = -1
        return out

    def _read(self, path: str) -> _FileData | None:
        data = read_yaml(path)
        if not data:
            log.warning("No data in file %s", path)
            return None
        if not isinstance(data, dict):
            raise AclError(f"{path} is not a YAML mapping")
        # Stricter than Java, which ignores unknown keys: a misspelt option must not quietly widen access.
        unknown = sorted(set(map(str, data)) - FILE_KEYS)
        if unknown:
            raise AclError(f"unknown keys {unknown} in {path}")
        try:
            return self._parse(path, data)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            raise AclError(f"{path}: {type(exc).__name__}: {exc}") from exc

    def _parse(self, path: str, data: dict[str, Any]) -> _FileData:
        parsed = _FileData()
        for pattern in _sequence(data, "globalWhiteRemoteAddresses", path):
            parsed.whites.append(address_strategy(_text(pattern)))
        for entry in _sequence(data, "accounts", path):
            if not isinstance(entry, dict):
                raise AclError(f"an entry of accounts in {path} is not a mapping")
            unknown = sorted(set(map(str, entry)) - ACCOUNT_KEYS)
            if unknown:
                raise AclError(f"unknown keys {unknown} in an account of {path}")
            for key in ("topicPerms", "groupPerms"):
                _sequence(entry, key, path)
            parsed.accounts.append(build_account(entry))
        versions = _sequence(data, "dataVersion", path)
        version = Version(self.clock_ms())
        if versions and isinstance(versions[0], dict):
            first = versions[0]
            version = Version(int(first.get("timestamp", 0) or 0), int(first.get("counter", 0) or 0))
        parsed.version = version
        return parsed

    def load(self) -> None:
        """load(): every ACL file from scratch (creating an empty default file, as assureAclConfigFilesExist)."""
        if not os.path.exists(self.default_file):
            os.makedirs(os.path.dirname(self.default_file), exist_ok=True)
            open(self.default_file, "a").close()
        files = self.list_files()
        accounts_by_file: dict[str, dict[str, Account]] = {}
        key_table: dict[str, str] = {}
        whites: list[AddressStrategy] = []
        whites_by_file: dict[str, list[AddressStrategy]] = {}
        versions: dict[str, Version] = {}
        for path in files:
            parsed = self._read(path)
            if parsed is None:
                continue
            if parsed.whites:
                whites_by_file[path] = parsed.whites
                whites.extend(parsed.whites)
            mine: dict[str, Account] = {}
            for account in parsed.accounts:
                if account.access_key in key_table:
                    log.warning("The accesssKey %s is repeated in multiple ACL files", account.access_key)
                    continue
                mine[account.access_key] = account
                key_table[account.access_key] = path
            if mine:
                accounts_by_file[path] = mine
            assert parsed.version is not None
            versions[path] = parsed.version
        if self.default_file in versions:
            v = versions[self.default_file]
            self.version = Version(v.timestamp, v.counter)
        self.files = files
        self.versions = versions
        self.global_whites_by_file = whites_by_file
        self.global_whites = whites
        self.accounts_by_file = accounts_by_file
        self.key_table = key_table

    def load_file(self, path: str) -> None:
        """load(aclFilePath): one changed file, merged into the state the way Java merges it."""
        path = os.path.normpath(path)
        parsed = self._read(path)
        if parsed is None:
            log.warning("No data in %s, skip it", path)
            return
        self.global_whites.extend(parsed.whites)
        old = self.global_whites_by_file.get(path)
        if old is not None:
            self.global_whites = [s for s in self.global_whites if not any(s is o for o in old)]
            self.global_whites_by_file[path] = parsed.whites
        mine: dict[str, Account] = {}
        for account in parsed.accounts:
            owner = self.key_table.get(account.access_key)
            if owner is None or owner == path:
                mine[account.access_key] = account
                self.key_table[account.access_key] = path
        assert parsed.version is not None
        self.accounts_by_file[path] = mine
        self.versions[path] = parsed.version
        if path == self.default_file:
            self.version = Version(parsed.version.timestamp, parsed.version.counter)

    # -- validation ----------------------------------------------------------------------------------------------

    def validate(self, request: AccessRequest) -> None:
        """PlainPermissionManager.validate: returns when allowed, raises AclError (with Java's frame) when not."""
        for strategy in self.global_whites:
            if strategy.match(request.remote_ip):
                return
        if request.access_key is None:
            raise AclError("No accessKey is configured", AT_NO_ACCESS_KEY)
        path = self.key_table.get(request.access_key)
        if path is None:
            raise AclError(f"No acl config for {request.access_key}", AT_NO_ACL_CONFIG)
        owned = self.accounts_by_file.get(path, {}).get(request.access_key)
        if owned is None:
            raise AclError(f"No PlainAccessResource for accessKey={request.access_key}", AT_NO_RESOURCE)
        if owned.address.match(request.remote_ip):
            return
        if calc_signature(request.content, owned.secret_key) != request.signature:
            raise AclError(f"Check signature failed for accessKey={request.access_key}", AT_SIGNATURE)
        if request.resources is not None and request.resources.get(RMQ_SYS_TRACE_TOPIC) == PUB:
            return
        self.check_perm(request, owned)

    @staticmethod
    def check_perm(request: AccessRequest, owned: Account) -> None:
        if request.code in ADMIN_CODES and not owned.admin:
            raise AclError(
                f"Need admin permission for request code={request.code}, but accessKey={owned.access_key} is not",
                AT_NEED_ADMIN,
            )
        needed = request.resources
        if needed is None:
            return
        if owned.perms is None and owned.admin:
            return
        for resource, perm in needed.items():
            is_group = is_retry_topic(resource)
            if owned.perms is None or resource not in owned.perms:
                default = owned.default_group_perm if is_group else owned.default_topic_perm
                if not check_permission(perm, default):
                    message = f"No default permission for {print_resource(resource, is_group)}"
                    raise AclError(message, AT_NO_DEFAULT_PERM)
                continue
            if not check_permission(perm, owned.perms[resource]):
                raise AclError(f"No default permission for {print_resource(resource, is_group)}", AT_NO_PERM)

    # -- admin codes ---------------------------------------------------------------------------------------------

    def _next_version(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        """updateAclConfigFileVersion: the file's own dataVersion + 1, stamped now, as [{counter, timestamp}]."""
        version = Version(self.clock_ms())
        versions = data.get("dataVersion")
        if versions:
            first = versions[0]
            version = Version(int(first["timestamp"]), int(str(first["counter"])))
        version.timestamp = self.clock_ms()
        version.counter += 1
        data["dataVersion"] = [version.to_obj()]
        self.versions[path] = version
        return data

    def update_access_config(self, config: Mapping[str, Any]) -> bool:
        """updateAccessConfig: update the account in the file that owns it, or add it to the default file."""
        access_key, secret_key = config.get("accessKey"), config.get("secretKey")
        check_keys(access_key, secret_key)
        assert isinstance(access_key, str)
        check_resource_perms(config.get("topicPerms"))
        check_resource_perms(config.get("groupPerms"))
        path = self.key_table.get(access_key)
        if path is not None:
            data = read_yaml(path) or {}
            accounts = data.get("accounts")
            if accounts is not None:
                for account in accounts:
                    if account.get("accessKey") == access_key:
                        accounts.remove(account)
                        accounts.append(_account_map(account, config))
                        break
            else:
                data["accounts"] = [_account_map(None, config)]
            self.accounts_by_file.setdefault(path, {})[access_key] = build_account(config)
            return write_yaml(path, self._next_version(path, data))
        path = self.default_file
        data = read_yaml(path) or {"accounts": []}
        accounts = data.get("accounts")
        if accounts is None:
            accounts = []
        accounts.append(_account_map(None, config))
        data["accounts"] = accounts
        self.key_table[access_key] = path
        self.accounts_by_file.setdefault(path, {})[access_key] = build_account(config)
        return write_yaml(path, self._next_version(path, data))

    def delete_access_config(self, access_key: str | None) -> bool:
        """deleteAccessConfig: drop the account from its file (it stays in memory until the file is reloaded)."""
        if not access_key:
            log.error("Parameter value accesskey is null or empty String,Please check your parameter")
            return False
        path = self.key_table.get(access_key)
        if path is None:
            return False
        data = read_yaml(path)
        if not data:
            log.warning("No data found in %s when deleting access config of %s", path, access_key)
            return True
        accounts = data.get("accounts") or []
        for account in accounts:
            if account.get("accessKey") == access_key:
                accounts.remove(account)
                del self.key_table[access_key]
                data["accounts"] = accounts
                return write_yaml(path, self._next_version(path, data))
        return False

    def update_global_white_addrs(self, addresses: list[str] | None, path: str | None = None) -> bool:
        """updateGlobalWhiteAddrsConfig: replace globalWhiteRemoteAddresses of a file under home (default file)."""
        if not path:
            path = self.default_file
        if addresses is None:
            return False
        if not os.path.exists(path) or os.path.isdir(path):
            log.error("Parameter value %s is not exist or is a directory, please check your parameter", path)
            return False
        if not path.startswith(self.home):
            log.error("Parameter value %s is not in the directory rocketmq.home.dir %s", path, self.home)
            return False
        data = read_yaml(path)
        if data is None:
            data = {}
        data["globalWhiteRemoteAddresses"] = list(addresses)
        return write_yaml(path, self._next_version(path, data))

    def version_json(self) -> str:
        """getAclConfigDataVersion: fastjson of the default file's DataVersion."""
        return f'{{"counter":{self.version.counter},"timestamp":{self.version.timestamp}}}'

    def all_versions_json(self) -> str:
        """JSON.toJSONString(Map<file, DataVersion>)."""
        items = [f'"{p}":{{"counter":{v.counter},"timestamp":{v.timestamp}}}' for p, v in self.versions.items()]
        return "{" + ",".join(items) + "}"


def _account_map(existing: dict[str, Any] | None, config: Mapping[str, Any]) -> dict[str, Any]:
    """createAclAccessConfigMap: the keys Java writes, in its order, onto the existing entry if there is one."""
    out = existing if existing is not None else {}
    access_key = config.get("accessKey")
    if not access_key or len(access_key) <= KEY_MIN_LENGTH:
        raise AclError(f"The accessKey={_null(access_key)} cannot be null and length should longer than 6")
    out["accessKey"] = access_key
    secret = config.get("secretKey")
    if secret:
        if len(secret) <= KEY_MIN_LENGTH:
            raise AclError(f"The secretKey={secret} value length should longer than 6")
        out["secretKey"] = secret
    if config.get("whiteRemoteAddress") is not None:
        out["whiteRemoteAddress"] = config["whiteRemoteAddress"]
    out["admin"] = bool(config.get("admin", False))
    if config.get("defaultTopicPerm"):
        out["defaultTopicPerm"] = config["defaultTopicPerm"]
    if config.get("defaultGroupPerm"):
        out["defaultGroupPerm"] = config["defaultGroupPerm"]
    if config.get("topicPerms") is not None:
        out["topicPerms"] = list(config["topicPerms"])
    if config.get("groupPerms") is not None:
        out["groupPerms"] = list(config["groupPerms"])
    return out
