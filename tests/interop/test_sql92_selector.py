"""⇄ rocketpy.filter against the reference filter jar itself (rocketmq-filter 4.9.7 SelectorParser), no broker:
the unit tests' table must still be what the reference answers, and 3,000 generated expressions (well-formed ones
and token soup) must compile to the same toString or fail with the same message, and evaluate the same on every
property map. One JVM run (interop/oracle/SelectorOracle.java)."""

from __future__ import annotations

from typing import Any

import pytest

from interop.harness import selector_oracle
from tests.unit.filter.sql92_gen import Generator
from tests.unit.filter.test_sql92 import PROPERTIES, TABLE, observed

pytestmark = pytest.mark.interop


def test_rocketpy_filter_equals_the_reference_selector(interop_build: Any) -> None:
    generator = Generator(7)
    generated = [generator.expression() for _ in range(1500)] + [generator.soup() for _ in range(1500)]
    table = [row["expression"] for row in TABLE["rows"]]
    rows = selector_oracle.run(interop_build, table + generated, PROPERTIES)
    assert rows[: len(table)] == TABLE["rows"], "tests/data/sql92/selector_table.json is stale: regenerate it"
    mismatches = [(row, observed(row["expression"])) for row in rows[len(table) :]]
    mismatches = [(java, mine) for java, mine in mismatches if java != mine]
    assert not mismatches, f"{len(mismatches)} differ, first: {mismatches[0]}"
    assert sum("error" in row for row in rows) > 500  # both outcomes are exercised
    assert sum("results" in row for row in rows) > 500
