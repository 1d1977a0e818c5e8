"""ACL in the running broker: the RPC hook every request passes before any processor, and the file watcher.

Mirrors BrokerController.initialAcl (a server RPC hook that calls PlainAccessValidator.parse + validate on both
ports) and AclFileWatchService (every 5 s: a changed number of ACL files reloads all of them, a changed modification
time reloads that file). A refusal is SYSTEM_ERROR (1) with the AclException's simple description, what
NettyRemotingAbstract answers when a hook throws; it is logged with the remote address and the access key.
"""

from __future__ import annotations

import logging
import os

import trio

from rocketpy.broker.acl.errors import AclError
from rocketpy.broker.acl.manager import DEFAULT_PLAIN_FILE, PlainPermissionManager
from rocketpy.broker.acl.resource import parse_request
from rocketpy.broker.config import BrokerSettings
from rocketpy.remoting.command import RemotingCommand

log = logging.getLogger("RocketmqBroker")

WATCH_INTERVAL = 5.0  # AclFileWatchService.WATCH_INTERVAL
PLAIN_FILE_KEY = "rocketmq.acl.plain.file"


def acl_home(settings: BrokerSettings) -> str | None:
    """Java reads System.getProperty("rocketmq.home.dir", getenv("ROCKETMQ_HOME")); rocketpy has no JVM
    properties, so ROCKETMQ_HOME comes first and the rocketmqHome setting stands in for -Drocketmq.home.dir."""
    return os.environ.get("ROCKETMQ_HOME") or settings.broker.rocketmq_home


class AclStartError(ValueError):
    """aclEnable=true but the ACL cannot be enforced: the broker must not start."""


def check_acl(settings: BrokerSettings) -> None:
    """Load the ACL once before the broker starts (blocking), so that a bad file stops it with a clear message."""
    if settings.broker.acl_enable:
        AclService.load(settings)


class AclService:
    def __init__(self, manager: PlainPermissionManager, watch_interval: float = WATCH_INTERVAL) -> None:
        self.manager = manager
        self.watch_interval = watch_interval
        self.lock = trio.Lock()  # the admin codes are synchronized in AdminBrokerProcessor

    @classmethod
    def load(cls, settings: BrokerSettings) -> AclService:
        """Build and load the ACL state (blocking); AclStartError means the broker must not start."""
        home = acl_home(settings)
        if not home:
            raise AclStartError("aclEnable=true but neither ROCKETMQ_HOME nor rocketmqHome is set")
        plain_file = settings.extra.get(PLAIN_FILE_KEY) or DEFAULT_PLAIN_FILE
        manager = PlainPermissionManager(home, plain_file)
        try:
            manager.load()
        except (AclError, OSError) as exc:
            raise AclStartError(f"ACL cannot be enforced, refusing to start: {exc}") from exc
        log.info("ACL enabled: files %s", manager.files)
        return cls(manager)

    def hook(self, remote_addr: str, cmd: RemotingCommand) -> None:
        """doBeforeRequest: validator.validate(validator.parse(request, remoteAddr))."""
        try:
            self.manager.validate(parse_request(cmd, remote_addr))
        except AclError as exc:
            key = (cmd.ext_fields or {}).get("AccessKey")
            log.warning("ACL refused request code %d from %s (accessKey=%s): %s", cmd.code, remote_addr, key, exc)
            raise exc.as_response_error() from None

    async def watch(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """AclFileWatchService.run."""
        seen = await trio.to_thread.run_sync(self.manager.snapshot)
        task_status.started()
        while True:
            await trio.sleep(self.watch_interval)
            try:
                now = await trio.to_thread.run_sync(self.manager.snapshot)
                if len(now) != len(seen):
                    log.info("ACL files changed from %d to %d: reloading all", len(seen), len(now))
                    seen = now
                    await trio.to_thread.run_sync(self.manager.load)
                    continue
                for path, mtime in now.items():
                    if seen.get(path) != mtime:
                        seen[path] = mtime
                        log.info("ACL file %s changed: reloading it", path)
                        await trio.to_thread.run_sync(self.manager.load_file, path)
            except (AclError, OSError) as exc:
                log.error("ACL reload failed, the previous ACL stays in force: %s", exc)
