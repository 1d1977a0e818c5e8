"""`rocketpy` command line: the only module that reads argv, sets up logging and starts trio.

    rocketpy namesrv [-c FILE] [--KEY=VALUE ...]
    rocketpy broker  [-n NAMESRV_ADDRS] [-c broker.conf] [--KEY=VALUE ...]
    rocketpy serve   [-c broker.conf] [--namesrv-port=9876] [--KEY=VALUE ...]
    rocketpy admin   SUBCOMMAND [-n NAMESRV_ADDRS] [mqadmin options]   (see docs/admin.md)

`broker` and `serve` take `--metricsPort=N` (off by default): a Prometheus text endpoint, see docs/metrics.md.

`--KEY=VALUE` options use the Java config keys (NamesrvConfig, NettyServerConfig, BrokerConfig,
MessageStoreConfig), so that existing scripts and broker.conf files work unchanged. The TLS settings, which Java
reads from JVM system properties only (TlsSystemConfig), are given as `-Dtls.server.mode=enforcing` style
arguments (or `--tls.server.mode=enforcing`) anywhere on the command line.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import trio

from rocketpy import __version__
from rocketpy.remoting.tls_config import TlsConfig, split_system_properties

ORPHAN_POLL_S = 1.0  # how often a `serve --brokers` child checks that its supervisor is alive

log = logging.getLogger("RocketmqNamesrv")


def _start_loop(async_fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """trio.run, with the cyclic garbage collector back on: `main` pauses it while the command's modules load."""
    gc.enable()
    return trio.run(async_fn, *args)


class UsageError(Exception):
    """Bad command-line input: reported on stderr with exit status 2."""


def split_overrides(extra: Sequence[str]) -> dict[str, str]:
    """`--key=value` options to a properties map, in the order given (later ones win)."""
    result: dict[str, str] = {}
    for item in extra:
        if not item.startswith("--") or "=" not in item:
            raise UsageError(f"unrecognised argument {item!r}: config options take the form --KEY=VALUE")
        key, _, value = item[2:].partition("=")
        if not key:
            raise UsageError(f"empty key in {item!r}")
        result[key] = value
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rocketpy", description="A wire-compatible RocketMQ 4.x server in Python")
    parser.add_argument("--version", action="version", version=f"rocketpy {__version__}")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    sub = parser.add_subparsers(dest="command", required=True)
    namesrv = sub.add_parser("namesrv", help="run a NameServer", epilog="Other options: --KEY=VALUE (Java keys)")
    namesrv.add_argument("-c", dest="config_file", help="a Java-format namesrv properties file")
    broker = sub.add_parser("broker", help="run a Broker", epilog="Other options: --KEY=VALUE (Java keys)")
    broker.add_argument("-c", dest="config_file", help="a Java-format broker.conf")
    broker.add_argument("-n", dest="namesrv_addr", help="NameServer addresses, e.g. 127.0.0.1:9876;10.0.0.2:9876")
    serve = sub.add_parser("serve", help="run a NameServer and a Broker in one process")
    serve.add_argument("--brokers", type=int, help="N broker processes in one cluster (serve_cluster.py): N cores")
    serve.add_argument("-c", dest="config_file", help="a Java-format broker.conf")
    serve.add_argument(
        "--namesrv-port", type=int, default=9876, help="the embedded NameServer's port (9876; 0: any free port)"
    )
    sub.add_parser("admin", help="mqadmin's subcommands in Python (rocketpy admin help)", add_help=False)
    return parser


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s - %(message)s",
    )


def _boot_line(text: str) -> None:
    # Scripts wait for these exact lines on stdout, as they do for the Java start scripts.
    print(text, flush=True)


async def _run_until_signal(service: Callable[[trio.Event], Awaitable[None]]) -> None:
    """Run `service(stop)` until SIGINT/SIGTERM sets `stop`; the service then shuts its parts down in order."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            stop = trio.Event()

            async def run_service() -> None:
                await service(stop)
                nursery.cancel_scope.cancel()

            nursery.start_soon(run_service)
            async for signum in signals:
                logging.getLogger("rocketpy").info("received %s, shutting down", signal.Signals(signum).name)
                stop.set()
                break
            await trio.sleep_forever()  # until the service has finished its shutdown


async def _namesrv_service(
    settings: Any, tls: TlsConfig, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
) -> None:
    """NamesrvStartup: load kvConfig.json, start the liveness scan, then accept connections."""
    from rocketpy.namesrv.controller import NamesrvController
    from rocketpy.remoting.server import RemotingServer
    from rocketpy.remoting.tls import ServerTls

    controller = NamesrvController(settings)
    controller.load()
    server = RemotingServer(
        controller.handlers(),
        idle_timeout=float(settings.netty.server_channel_max_idle_time_seconds),
        tls=await trio.to_thread.run_sync(ServerTls.build, tls),
    )
    server.on_close(controller.on_connection_closed)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(controller.run_scan)
        port = await nursery.start(server.serve, settings.netty.listen_port)
        task_status.started(port)


def _cmd_namesrv(args: argparse.Namespace, overrides: dict[str, str], tls: TlsConfig) -> int:
    from rocketpy.namesrv.config import load_settings

    settings = load_settings(args.config_file, overrides)

    async def service(stop: trio.Event) -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(_namesrv_service, settings, tls)
            _boot_line("The Name Server boot success. serializeType=JSON")
            await stop.wait()
            nursery.cancel_scope.cancel()

    async def main() -> None:
        await _run_until_signal(service)

    _start_loop(main)
    return 0


def _cmd_serve_cluster(args: argparse.Namespace, overrides: dict[str, str], tls: TlsConfig) -> int:
    """`serve --brokers N`: the NameServer here, N `rocketpy broker` children (rocketpy/serve_cluster.py)."""
    from rocketpy.namesrv.config import load_settings
    from rocketpy.serve_cluster import Supervisor, plan

    # Options that mean one broker: refused rather than half-honoured by N children.
    if args.namesrv_port == 0 or overrides.get("listenPort") == "0":
        raise UsageError(
            "--brokers needs fixed ports (--namesrv-port and --listenPort, the first broker's; the others +10)"
        )
    if "metricsPort" in overrides:
        raise UsageError(
            "--metricsPort serves one broker: with --brokers, run `rocketpy broker --metricsPort=...` per broker"
        )
    namesrv_settings = load_settings(None, {"listenPort": str(args.namesrv_port)})
    namesrv_addr = f"127.0.0.1:{args.namesrv_port}"
    # The settings as one broker would have them: a bad config fails here, once, before any child starts.
    settings = _load_broker_settings(args.config_file, {"namesrvAddr": namesrv_addr, **overrides}, tls)
    if settings.store.broker_role.name == "SLAVE":
        raise UsageError("--brokers starts masters; run slaves with `rocketpy broker`")
    children = plan(
        args.brokers,
        base_port=settings.netty.listen_port,
        store_root=Path(settings.store.store_path_root_dir),
        namesrv_addr=namesrv_addr,
        config_file=args.config_file,
        overrides=overrides,
        system_props=args.system_props,
        log_level=args.log_level,
    )
    status = 0

    async def service(stop: trio.Event) -> None:
        nonlocal status
        async with trio.open_nursery() as nursery:
            await nursery.start(_namesrv_service, namesrv_settings, tls)
            _boot_line("The Name Server boot success. serializeType=JSON")
            status = await Supervisor(children).run(stop)  # the brokers unregister while the NameServer is up
            nursery.cancel_scope.cancel()

    async def main() -> None:
        await _run_until_signal(service)

    _start_loop(main)
    return status


def _broker_boot_line(broker: Any) -> str:
    settings = broker.settings
    return (
        f"The broker[{settings.broker.broker_name}, {settings.broker_addr}] boot success. "
        f"serializeType=JSON and name server is {settings.broker.namesrv_addr}"
    )


def free_broker_port(attempts: int = 200) -> int:
    """A port P with P-2 (the VIP port clients derive from P) and P+1 (HA) free too: what `--listenPort=0` means.

    The kernel picks P (bind to port 0); P-2 and P+1 are then checked, so that the broker's three ports stay
    Java's fixed offsets from listenPort."""
    import socket

    def bindable(port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                return False
        return True

    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("0.0.0.0", 0))
            port = int(sock.getsockname()[1])
        if port > 1026 and port < 65535 and bindable(port - 2) and bindable(port + 1) and bindable(port):
            return port
    raise OSError("no free port P with P-2 and P+1 free found for --listenPort=0")


def _load_broker_settings(config_file: str | None, overrides: dict[str, str], tls: TlsConfig) -> Any:
    from rocketpy.broker.config import load_settings

    settings = load_settings(config_file, overrides, client_use_tls=tls.broker_client_use_tls())
    if settings.broker.acl_enable:  # the ACL code (and yaml) is loaded only then
        from rocketpy.broker.acl_service import check_acl

        check_acl(settings)  # an ACL that cannot be loaded: refuse to start, never run open
    if settings.netty.listen_port == 0:  # a free port chosen here; the boot line and registration carry it
        settings.netty.listen_port = free_broker_port()
        settings.store.ha_listen_port = settings.netty.listen_port + 1
    if settings.client.use_tls:
        from rocketpy.remoting.tls import client_context

        # Java would fall back to plain connections (a null SSLContext); unreadable key material fails the start.
        client_context(tls)
    return settings


def _metrics_port(overrides: dict[str, str]) -> tuple[int | None, dict[str, str]]:
    """`--metricsPort=N` is rocketpy's own option (no Java key): taken out of the config overrides."""
    if "metricsPort" not in overrides:
        return None, overrides
    rest = {k: v for k, v in overrides.items() if k != "metricsPort"}
    try:
        port = int(overrides["metricsPort"])
    except ValueError:
        raise UsageError(f"--metricsPort takes a port number, not {overrides['metricsPort']!r}") from None
    if not 0 <= port <= 65535:
        raise UsageError(f"--metricsPort {port} is not a port number")
    return port, rest


async def _start_metrics(nursery: trio.Nursery, broker: Any, port: int | None) -> None:
    if port is None:
        return
    from rocketpy.broker.metrics import BrokerMetrics, serve_metrics

    metrics = BrokerMetrics(broker.settings, broker.store, broker.controller, broker.stats, broker.controller.clock_ms)
    bound = await nursery.start(serve_metrics, metrics, port)
    _boot_line(f"Prometheus metrics on http://0.0.0.0:{bound}/metrics")


async def _stop_when_orphaned(supervisor: int, stop: trio.Event) -> None:
    """A `serve --brokers` child stops as on SIGTERM once its supervisor is gone, even killed with SIGKILL (then
    nobody is left to stop it). Polled: PR_SET_PDEATHSIG would fire when the worker thread that spawned the child
    ends, not the supervisor."""
    while os.getppid() == supervisor:
        await trio.sleep(ORPHAN_POLL_S)
    logging.getLogger("rocketpy").warning("supervisor (pid %d) is gone, shutting down", supervisor)
    stop.set()


def _cmd_broker(args: argparse.Namespace, overrides: dict[str, str], tls: TlsConfig) -> int:
    from rocketpy.broker.startup import run_broker
    from rocketpy.serve_cluster import SUPERVISOR_PID_ENV

    metrics_port, overrides = _metrics_port(overrides)
    if args.namesrv_addr:
        overrides = {**overrides, "namesrvAddr": args.namesrv_addr}
    settings = _load_broker_settings(args.config_file, overrides, tls)

    async def service(stop: trio.Event) -> None:
        async with trio.open_nursery() as nursery:
            broker = await nursery.start(partial(run_broker, settings, tls=tls))
            _boot_line(_broker_boot_line(broker))
            await _start_metrics(nursery, broker, metrics_port)
            supervisor = os.environ.get(SUPERVISOR_PID_ENV)  # set by `serve --brokers` for its children
            if supervisor and supervisor.isdigit():
                nursery.start_soon(_stop_when_orphaned, int(supervisor), stop)
            await stop.wait()
            nursery.cancel_scope.cancel()

    async def main() -> None:
        await _run_until_signal(service)

    _start_loop(main)
    return 0


def _cmd_serve(args: argparse.Namespace, overrides: dict[str, str], tls: TlsConfig) -> int:
    """NameServer and Broker in one process; the broker registers with the embedded NameServer."""
    if args.brokers is not None:
        return _cmd_serve_cluster(args, overrides, tls)
    from rocketpy.broker.startup import run_broker
    from rocketpy.namesrv.config import load_settings

    metrics_port, overrides = _metrics_port(overrides)
    namesrv_settings = load_settings(None, {"listenPort": str(args.namesrv_port)})
    overrides = {"namesrvAddr": f"127.0.0.1:{args.namesrv_port}", "brokerIP1": "127.0.0.1", **overrides}
    broker_settings = _load_broker_settings(args.config_file, overrides, tls)

    async def service(stop: trio.Event) -> None:
        async with trio.open_nursery() as outer:
            namesrv_port = await outer.start(_namesrv_service, namesrv_settings, tls)
            if args.namesrv_port == 0:  # --namesrv-port=0: the port the kernel chose
                broker_settings.broker.namesrv_addr = f"127.0.0.1:{namesrv_port}"
            _boot_line("The Name Server boot success. serializeType=JSON")
            async with trio.open_nursery() as inner:
                broker = await inner.start(partial(run_broker, broker_settings, tls=tls))
                _boot_line(_broker_boot_line(broker))
                await _start_metrics(inner, broker, metrics_port)
                # One line with both addresses, for scripts and tests in any language (rocketpy.testing reads it).
                store_dir = broker_settings.store.store_path_root_dir
                _boot_line(
                    f"rocketpy serve ready: namesrvAddr=127.0.0.1:{namesrv_port} "
                    f"brokerAddr={broker_settings.broker_addr} storePathRootDir={store_dir}"
                )
                await stop.wait()
                inner.cancel_scope.cancel()  # the broker unregisters while its NameServer is still up
            outer.cancel_scope.cancel()

    async def main() -> None:
        await _run_until_signal(service)

    _start_loop(main)
    return 0


def _cmd_admin(argv: Sequence[str]) -> int:
    """`rocketpy admin ...`: mqadmin's command line; the admin package does the work, this only starts trio."""
    from rocketpy.admin.main import execute, parse

    logging.basicConfig(level=logging.ERROR, stream=sys.stderr, format="%(levelname)s %(name)s - %(message)s")
    parsed = parse(argv, sys.stdout, sys.stderr)
    if isinstance(parsed, int):
        return parsed
    command, args = parsed
    try:
        return int(_start_loop(execute, command, args, sys.stdout, sys.stderr))
    except KeyboardInterrupt:
        return 130
    except BaseExceptionGroup as group:  # Ctrl-C while the client's connections were open
        if group.subgroup(KeyboardInterrupt) is None:
            raise
        return 130
    except BrokenPipeError:  # `rocketpy admin topicList | head`
        sys.stderr.close()
        return 141


def main(argv: Sequence[str] | None = None) -> int:
    # Launch to ready (issue 12): a start imports some 400 modules, whose objects a cyclic collection would only
    # walk without finding garbage; the collector is paused until the event loop starts (_start_loop).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["admin"]:  # mqadmin's own option syntax: not parsed by the server commands' parser
        return _cmd_admin(argv[1:])
    parser = _parser()
    system_props, argv = split_system_properties(argv)
    args, extra = parser.parse_known_args(argv)
    args.system_props = system_props
    _setup_logging(args.log_level)
    for key in system_props:
        if not key.startswith("tls."):
            log.warning("ignoring -D%s: rocketpy reads only the tls.* system properties", key)
    try:
        overrides = split_overrides(extra)
        # TlsSystemConfig, then TlsHelper's tls.config.file (read once here, before the event loop).
        tls = TlsConfig.from_system_properties(system_props).with_config_file()
        tls.check_server()
        if args.command == "namesrv":
            return _cmd_namesrv(args, overrides, tls)
        if args.command == "broker":
            return _cmd_broker(args, overrides, tls)
        if args.command == "serve":
            return _cmd_serve(args, overrides, tls)
    except UsageError as exc:
        parser.error(str(exc))
    except (OSError, ValueError) as exc:
        print(f"rocketpy {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2
