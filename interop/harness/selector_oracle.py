"""The reference SQL92 filter (rocketmq-filter 4.9.7 SelectorParser) as an oracle for rocketpy.filter.

`run(build, expressions, properties)` compiles interop/oracle/SelectorOracle.java once against the reference
classpath (cached in interop/.work/oracle-<hash>/) and returns, per expression, {"expression", "error"} or
{"expression", "text", "results"} (see the Java class). `python -m interop.harness.selector_oracle` rewrites the
unit tests' table, tests/data/sql92/selector_table.json, from its own inputs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from interop.harness import build as build_mod
from interop.harness.build import JavaBuild

ORACLE_SRC = Path(__file__).resolve().parents[1] / "oracle" / "SelectorOracle.java"
TABLE = Path(__file__).resolve().parents[2] / "tests" / "data" / "sql92" / "selector_table.json"


def _compiled(build: JavaBuild) -> Path:
    out_dir = build_mod.WORK_DIR / f"oracle-{build_mod._digest([ORACLE_SRC])}"
    if not (out_dir / "SelectorOracle.class").is_file():
        out_dir.mkdir(parents=True, exist_ok=True)
        javac = str(Path(build.java).with_name("javac"))
        proc = subprocess.run(
            [javac, "-cp", build.reference_classpath, "-d", str(out_dir), str(ORACLE_SRC)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise build_mod.InteropSetupError(f"javac SelectorOracle failed:\n{proc.stdout}\n{proc.stderr}")
    return out_dir


def run(build: JavaBuild, expressions: list[str], properties: list[dict[str, str]]) -> list[dict[str, Any]]:
    classes = _compiled(build)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump({"expressions": expressions, "properties": properties}, f)
        path = f.name
    try:
        proc = subprocess.run(
            [build.java, "-Xmx256m", "-cp", f"{classes}:{build.reference_classpath}", "SelectorOracle", path],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        Path(path).unlink()
    if proc.returncode != 0:
        raise AssertionError(f"SelectorOracle failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    rows: list[dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return rows


def main() -> None:
    table = json.loads(TABLE.read_text())
    rows = run(build_mod.prepare(), [r["expression"] for r in table["rows"]], table["properties"])
    table["rows"] = rows
    TABLE.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n")
    print(f"rewrote {TABLE} ({len(rows)} expressions)", file=sys.stderr)


if __name__ == "__main__":
    main()
