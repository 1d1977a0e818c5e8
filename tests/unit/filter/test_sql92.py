"""rocketpy.filter against the 4.9.8 SQL92 filter's semantics.

The table (tests/data/sql92/selector_table.json) was produced by the reference SelectorParser and Expression
classes themselves (interop/oracle/SelectorOracle.java; tests/interop/test_sql92_selector.py keeps it honest):
for each expression its compile error (the text a SUBSCRIPTION_PARSE_FAILED remark carries) or its toString and
its value on 20 property maps. The property tests check invariants that hold for any input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rocketpy.filter import FilterCompileError, SqlExpression, compile_sql92
from rocketpy.filter.values import JavaError, JInt, JLong, compare, double_to_string, parse_double, parse_integral
from tests.unit.filter.sql92_gen import NUMBERS, OPS, TOKENS, VALUES, Generator

TABLE = json.loads((Path(__file__).resolve().parents[2] / "data" / "sql92" / "selector_table.json").read_text())
PROPERTIES: list[dict[str, str]] = TABLE["properties"]


def observed(expression: str) -> dict[str, Any]:
    """The same shape as a table row."""
    row: dict[str, Any] = {"expression": expression}
    try:
        compiled = compile_sql92(expression)
    except FilterCompileError as exc:
        row["error"] = exc.args[0]
        return row
    row["text"] = str(compiled)
    results = []
    for props in PROPERTIES:
        try:
            value = compiled.evaluate(props)
        except JavaError:
            results.append("error")
            continue
        results.append("null" if value is None else str(value).lower())
    row["results"] = results
    return row


@pytest.mark.parametrize("row", TABLE["rows"], ids=lambda r: repr(r["expression"])[:60])
def test_like_the_reference_selector_parser(row: dict[str, Any]) -> None:
    assert observed(row["expression"]) == row


def test_the_table_covers_the_grammar() -> None:
    texts = " ".join(r["expression"] for r in TABLE["rows"]).upper()
    for word in ("BETWEEN", "NOT BETWEEN", "NOT IN", "IS NULL", "IS NOT NULL", " OR ", " AND ", "TRUE", "FALSE",
                 "NULL", "''", "5L", "1E3", ".5", "--", "/*", "TAGS", "LIKE", "'"):  # fmt: skip
        assert word in texts, word
    errors = [r["error"] for r in TABLE["rows"] if "error" in r]
    for kind in ("ParseException: Encountered", "TokenMgrError: Lexical error", "RuntimeException",
                 "NumberFormatException", "will not result in a boolean value"):  # fmt: skip
        assert any(kind in e for e in errors), kind
    assert len(TABLE["rows"]) >= 200 and len(PROPERTIES) >= 20


def test_matches_only_true_and_never_raises() -> None:
    compiled = compile_sql92("a > 1")
    assert compiled.matches({"a": "5"}) is True
    assert compiled.matches({}) is False  # unknown
    assert compiled.matches({"a": "abc"}) is False  # Integer.valueOf fails: ExpressionMessageFilter logs, no match
    assert isinstance(compiled, SqlExpression) and str(compiled) == "(a > 1)"


def test_compiled_once_per_text() -> None:
    assert compile_sql92("a BETWEEN 1 AND 3") is compile_sql92("a BETWEEN 1 AND 3")


def test_java_number_classes() -> None:
    from rocketpy.filter.parser import from_decimal

    assert type(from_decimal("2147483647")) is JInt and type(from_decimal("2147483648")) is JLong
    assert type(from_decimal("5L")) is JInt  # the suffix is dropped, then narrowed like any literal
    with pytest.raises(JavaError, match='For input string: "9223372036854775808"'):
        from_decimal("9223372036854775808")
    assert compare("2147483648", JLong(1)) == 1
    with pytest.raises(JavaError, match="NumberFormatException"):
        compare("2147483648", JInt(1))  # Integer.valueOf overflows
    with pytest.raises(JavaError, match="ClassCastException"):
        compare(True, "true")  # a Boolean on the left of a String: a cast Java gets wrong
    assert compare("true", True) == 0
    assert parse_integral("+7", 32) == 7 and parse_double(" 7 ") == 7.0 and parse_double("1f") == 1.0
    with pytest.raises(JavaError):
        parse_integral(" 7", 32)
    assert [double_to_string(d) for d in (1e20, 12345678.5, 0.001, 1e-4, 100.0, 5e-324)] == [
        "1.0E20", "1.23456785E7", "0.001", "1.0E-4", "100.0", "4.9E-324"
    ]  # fmt: skip


# -- properties -----------------------------------------------------------------------------------------------------

values = st.sampled_from(VALUES)
property_maps = st.dictionaries(st.sampled_from(["a", "b", "s", "TAGS"]), values, max_size=4)


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_any_text_compiles_or_is_refused_with_a_java_message(text: str) -> None:
    try:
        compiled = compile_sql92(text)
    except FilterCompileError as exc:
        message = exc.args[0]
        assert message is not None and message.split(":")[0] in {
            "org.apache.rocketmq.filter.parser.ParseException",
            "org.apache.rocketmq.filter.parser.TokenMgrError",
            "java.lang.RuntimeException",
            "java.lang.NumberFormatException",
        }
        return
    assert isinstance(compiled.matches({}), bool)


@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8).map(" ".join), property_maps)
@settings(max_examples=400, deadline=None)
def test_token_soup_never_breaks_the_parser_or_the_evaluator(text: str, props: dict[str, str]) -> None:
    try:
        compiled = compile_sql92(text)
    except FilterCompileError:
        return
    try:
        value = compiled.evaluate(props)
    except JavaError:
        return  # what Java throws too (a number that does not parse, a Boolean cast to a String)
    assert value in (True, False, None)


@given(st.integers(min_value=0, max_value=2**32), property_maps)
@settings(max_examples=300, deadline=None)
def test_well_formed_expressions_have_no_syntax_errors(seed: int, props: dict[str, str]) -> None:
    text = Generator(seed).expression()
    try:
        compiled = compile_sql92(text)
    except FilterCompileError as exc:
        assert "ParseException: Encountered" not in exc.args[0] and "TokenMgrError" not in exc.args[0], text
        return
    assert isinstance(compiled.matches(props), bool)


@given(st.sampled_from(["a", "b", "s"]), st.sampled_from(OPS), st.sampled_from(NUMBERS),
       property_maps)  # fmt: skip
@settings(max_examples=300, deadline=None)
def test_not_is_three_valued(name: str, op: str, literal: str, props: dict[str, str]) -> None:
    plain = compile_sql92(f"{name} {op} {literal}")
    negated = compile_sql92(f"NOT ({name} {op} {literal})")
    try:
        value = plain.evaluate(props)
    except JavaError:
        assert not negated.matches(props)
        return
    assert negated.evaluate(props) == (None if value is None else not value)


@given(st.sampled_from(["a", "b"]), st.integers(-5, 5), st.integers(0, 6), property_maps)
@settings(max_examples=300, deadline=None)
def test_between_is_two_comparisons(name: str, low: int, width: int, props: dict[str, str]) -> None:
    between = compile_sql92(f"{name} BETWEEN {low} AND {low + width}")
    spelled = compile_sql92(f"{name} >= {low} AND {name} <= {low + width}")
    assert str(between) == str(spelled)
    assert between.matches(props) == spelled.matches(props)
