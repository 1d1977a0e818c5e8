"""rocketmq-dashboard 1.0.0 (the official jar in ../shared/tools) as a test client: start it against a NameServer,
call its REST endpoints with urllib, and reduce the JSON answers to comparable shapes.

The dashboard's controllers (org.apache.rocketmq.dashboard.controller.*) are the endpoint list; every answer is a
JsonResult {status, data, errMsg} or a bare object. A shape keeps status codes and structure and replaces what
differs between two healthy runs (addresses, times, ids, rates, counts) by its type.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from interop.harness import processes
from interop.harness.build import JavaBuild
from interop.harness.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_JAR = REPO_ROOT.parent / "shared" / "tools" / "rocketmq-dashboard-1.0.0.jar"
READY = "Started App"
# JDK 17 needs these for the dashboard's netty 4.0.42 (../shared/tools/README.md)
JVM_OPTS = [
    "-Xmx384m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
]


class DashboardError(AssertionError):
    """The dashboard could not be started or did not answer HTTP at all."""


class Dashboard:
    """One dashboard JVM pointed at `namesrv`; `call` returns (http status, parsed JSON or text)."""

    def __init__(self, server: processes.ServerProcess, port: int) -> None:
        self.server = server
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def call(
        self, path: str, params: dict[str, Any] | None = None, json_body: Any = None, method: str | None = None
    ) -> tuple[int, Any]:
        url = self.base + path
        data = None
        headers = {"Accept": "application/json"}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except OSError as exc:
            raise DashboardError(f"{path}: no HTTP answer ({exc}); dashboard output:\n{self.server.output()}") from exc
        text = raw.decode("utf-8", errors="replace")
        try:
            return status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return status, text

    def page(self, path: str) -> str:
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            body: bytes = response.read()
        return body.decode("utf-8", errors="replace")

    def stop(self) -> None:
        self.server.stop()


def start_dashboard(build: JavaBuild, workdir: Path, namesrv: str, collect: bool = True) -> Dashboard:
    """`java -jar rocketmq-dashboard-1.0.0.jar` on a free port, its data under workdir; ready at "Started App"."""
    if not DASHBOARD_JAR.is_file():
        raise DashboardError(f"the dashboard jar is missing: {DASHBOARD_JAR} (see ../shared/tools/README.md)")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [
        build.java,
        *JVM_OPTS,
        f"-Duser.home={workdir}",
        "-jar",
        str(DASHBOARD_JAR),
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        f"--rocketmq.config.namesrvAddr={namesrv}",
        f"--rocketmq.config.dataPath={workdir / 'dashdata'}",
        f"--rocketmq.config.enableDashBoardCollect={'true' if collect else 'false'}",
    ]
    server = processes._spawn("dashboard", cmd, workdir, f"127.0.0.1:{port}")
    try:
        server.wait_for(READY, timeout=180.0)
    except BaseException:
        server.stop()
        raise
    return Dashboard(server, port)


_ADDR = re.compile(r"\d+\.\d+\.\d+\.\d+(:\d+)?")
_HEX_ID = re.compile(r"\b[0-9A-F]{32,}\b")


def normalise_text(text: str, replacements: dict[str, str] | None = None) -> str:
    """Addresses and message ids out of an error text, then `replacements` (paths, names)."""
    for old, new in (replacements or {}).items():
        text = text.replace(old, new)
    return _HEX_ID.sub("<id>", _ADDR.sub("<addr>", text))


def shape(value: Any, keep: frozenset[str] = frozenset(), replacements: dict[str, str] | None = None) -> Any:
    """`value` with every leaf replaced by its JSON type, lists reduced to the sorted distinct shapes of their
    elements and dict keys normalised through `replacements` (paths). The values under a key in `keep` (topic
    names, bodies, statuses) stay as they are, lists of them sorted."""
    reps = replacements or {}

    def key_of(k: str) -> str:
        for old, new in reps.items():
            k = k.replace(old, new)
        return k

    def leaf(v: Any) -> Any:
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, (int, float)):
            return "number"
        return "str"

    def walk(v: Any, kept: bool) -> Any:
        if isinstance(v, dict):
            return {key_of(k): walk(x, k in keep) for k, x in v.items()}
        if isinstance(v, list):
            if kept and all(not isinstance(x, (dict, list)) for x in v):
                return sorted(v, key=json.dumps)
            return sorted({json.dumps(walk(x, False), sort_keys=True) for x in v})
        if kept:
            return normalise_text(v, reps) if isinstance(v, str) else v
        return leaf(v)

    return walk(value, False)


def status_of(http_status: int, body: Any) -> dict[str, Any]:
    """The outcome a page sees: HTTP status, JsonResult status and whether an error message came."""
    out: dict[str, Any] = {"http": http_status}
    if isinstance(body, dict) and "status" in body and "errMsg" in body:
        out["status"] = body["status"]
        out["error"] = body["errMsg"] is not None
    return out
