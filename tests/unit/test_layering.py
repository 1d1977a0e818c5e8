"""The package layering of docs/architecture.md, checked on every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "rocketpy"

# package -> rocketpy packages it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "common": set(),
    "protocol": {"common"},
    "remoting": {"common", "protocol"},
    "store": {"common"},
    "filter": {"common"},
    "namesrv": {"common", "protocol", "remoting"},
    "broker": {"common", "protocol", "remoting", "store", "filter"},
    "client": {"common", "protocol", "remoting"},
    "admin": {"common", "protocol", "remoting", "client"},
}
# third-party or stdlib modules a package must not touch
FORBIDDEN_EXTERNAL: dict[str, set[str]] = {
    "common": {"trio", "socket"},
    "protocol": {"trio", "socket"},
    "store": {"trio", "socket", "asyncio"},
    "filter": {"trio", "socket", "asyncio"},
}
SANS_IO_REMOTING = {"command.py", "codec.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules() -> list[tuple[str, Path]]:
    return [(p.relative_to(ROOT).parts[0], p) for p in sorted(ROOT.rglob("*.py")) if len(p.relative_to(ROOT).parts) > 1]


@pytest.mark.parametrize(("package", "path"), _modules(), ids=lambda v: str(v).rsplit("rocketpy/", 1)[-1])
def test_module_respects_layering(package: str, path: Path) -> None:
    imports = _imports(path)
    inner = {name.split(".")[1] for name in imports if name.startswith("rocketpy.") and name.count(".") >= 1}
    allowed = ALLOWED.get(package, set()) | {package}
    assert inner <= allowed, f"{path} imports {sorted(inner - allowed)}"
    assert "rocketpy.cli" not in imports
    top = {name.split(".")[0] for name in imports}
    forbidden = FORBIDDEN_EXTERNAL.get(package, set())
    if package == "remoting" and path.name in SANS_IO_REMOTING:
        forbidden = {"trio", "socket"}
    assert not top & forbidden, f"{path} imports {sorted(top & forbidden)}"
    if package == "store":
        assert not any(n.startswith(("rocketpy.protocol", "rocketpy.remoting")) for n in imports)


def test_layering_test_sees_the_packages() -> None:
    assert {p for p, _ in _modules()} >= {"common", "protocol", "remoting"}
