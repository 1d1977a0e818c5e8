"""A hand-written SelectorParser (filter/parser/SelectorParser.jj of 4.9.8), error for error.

Recursive descent over the JavaCC grammar with its quirks: NOT binds tighter than the comparisons ("NOT a > 1" is
"(NOT a) > 1", refused at compile time), IN takes string literals only, there is no LIKE, no arithmetic, no EOF at
the end (trailing tokens are ignored). To give Java's ParseException text ("Encountered ... Was expecting one
of: ..."), the parser keeps JavaCC's bookkeeping: a generation counter bumped per consumed token and, for each of
the 13 choice points of the generated parser, the generation at which it last fell through (`jj_la1`); the
expected tokens are the choice points' token sets of the current generation. JavaCC's rescan of the syntactic
lookaheads adds nothing here (its entries are only kept when they repeat an existing one), so it is not modelled.
The `+` prefix uses an unbounded syntactic lookahead in Java (`LOOKAHEAD("+" unaryExpr())`): `_scan_unary` is
that recogniser.
"""

from __future__ import annotations

from collections.abc import Callable

from rocketpy.filter import expressions as ex
from rocketpy.filter.expressions import Expr
from rocketpy.filter.lexer import (
    AND,
    BETWEEN,
    COMMA,
    DECIMAL_LITERAL,
    EOF,
    EQ,
    FALSE,
    FLOATING_POINT_LITERAL,
    GE,
    GT,
    ID,
    IN,
    IS,
    LE,
    LPAREN,
    LT,
    MINUS,
    NE,
    NOT,
    NULL,
    OR,
    PLUS,
    RPAREN,
    STRING_LITERAL,
    TOKEN_IMAGE,
    TRUE,
    Lexer,
    Token,
    add_escapes,
    from_utf16_units,
)
from rocketpy.filter.values import JavaError, JInt, JLong, NumberFormatError, double_to_string, parse_integral

_LITERALS = (TRUE, FALSE, NULL, DECIMAL_LITERAL, FLOATING_POINT_LITERAL, STRING_LITERAL)
_PRIMARY = (*_LITERALS, ID, LPAREN)
_RELATIONS = {GT: ">", GE: ">=", LT: "<", LE: "<="}
# jj_la1_0 / jj_la1_1 of the generated parser: the tokens each choice point accepts
_LA1: tuple[frozenset[int], ...] = (
    frozenset({OR}),
    frozenset({AND}),
    frozenset({IS, EQ, NE}),
    frozenset({EQ, NE}),
    frozenset({IS}),
    frozenset({NOT, BETWEEN, IN, GT, GE, LT, LE}),
    frozenset({COMMA}),
    frozenset({COMMA}),
    frozenset({BETWEEN, GT, GE, LT, LE}),
    frozenset({IN}),
    frozenset({NOT, *_PRIMARY, MINUS}),
    frozenset(_PRIMARY),
    frozenset(_LITERALS),
)
DOUBLE_MAX = 1.7976931348623157e308
DOUBLE_MIN = 5e-324


class ParseError(JavaError):
    java_class = "org.apache.rocketmq.filter.parser.ParseException"


class SelectorParser:
    def __init__(self, text: str) -> None:
        self.lexer = Lexer(text)
        self.tokens: list[Token] = []
        self.index = -1  # the last consumed token
        self.gen = 0
        self.la1 = [-1] * len(_LA1)
        self.kind = -1

    # -- tokens ----------------------------------------------------------------------------------------------------

    def _token(self, i: int) -> Token:
        while len(self.tokens) <= i:
            self.tokens.append(self.lexer.next_token())
        return self.tokens[i]

    def peek(self) -> int:
        return self._token(self.index + 1).kind

    def consume(self, kind: int) -> Token:
        token = self._token(self.index + 1)
        if token.kind == kind:
            self.index += 1
            self.gen += 1
            return token
        self.kind = kind
        raise self._error()

    def fall_through(self, point: int) -> None:
        self.la1[point] = self.gen

    def fail(self, point: int) -> ParseError:
        self.la1[point] = self.gen
        self.kind = -1
        return self._error()

    def _error(self) -> ParseError:
        """generateParseException + ParseException.initialise."""
        expected = {self.kind} if self.kind >= 0 else set()
        self.kind = -1
        for point, gen in enumerate(self.la1):
            if gen == self.gen:
                expected |= _LA1[point]
        token = self._token(self.index + 1)
        seen = TOKEN_IMAGE[0] if token.kind == EOF else f' {TOKEN_IMAGE[token.kind]} "{add_escapes(token.image)} "'
        head = "Was expecting:" if len(expected) == 1 else "Was expecting one of:"
        body = "".join(f"{TOKEN_IMAGE[k]} ...\n    " for k in sorted(expected))
        return ParseError(f'Encountered "{seen}" at line {token.line}, column {token.column}.\n{head}\n    {body}')

    # -- syntactic lookahead ------------------------------------------------------------------------------------------

    def _ahead(self, *kinds: int) -> bool:
        """LOOKAHEAD(2) of a fixed token pair: stops lexing at the first mismatch, as jj_scan_token does."""
        return all(self._token(self.index + offset).kind == kind for offset, kind in enumerate(kinds, start=1))

    def _scan(self, i: int, kind: int) -> int:
        return i + 1 if self._token(i).kind == kind else -1

    def _scan_unary(self, i: int) -> int:
        """jj_3R_7: unaryExpr as a recogniser (ordered choice, backtracking loops); -1 if it does not match."""
        kind = self._token(i).kind
        if kind in (PLUS, MINUS, NOT):
            return self._scan_unary(i + 1)
        if kind in _LITERALS or kind == ID:
            return i + 1
        if kind == LPAREN:
            j = self._scan_binary(i + 1, 0)
            return -1 if j < 0 else self._scan(j, RPAREN)
        return -1

    def _scan_binary(self, i: int, level: int) -> int:
        """orExpression (level 0), andExpression (1), equalityExpression (2), comparisonExpression (3)."""
        if level == 3:
            return self._scan_comparison(i)
        i = self._scan_binary(i, level + 1)
        if i < 0:
            return -1
        while True:
            j = self._scan_binary_step(i, level)
            if j < 0:
                return i
            i = j

    def _scan_binary_step(self, i: int, level: int) -> int:
        kind = self._token(i).kind
        if level == 0:
            return self._scan_binary(i + 1, 1) if kind == OR else -1
        if level == 1:
            return self._scan_binary(i + 1, 2) if kind == AND else -1
        if kind in (EQ, NE):
            return self._scan_binary(i + 1, 3)
        if kind == IS:
            if self._token(i + 1).kind == NULL:
                return i + 2
            if self._token(i + 1).kind == NOT and self._token(i + 2).kind == NULL:
                return i + 3
        return -1

    def _scan_comparison(self, i: int) -> int:
        i = self._scan_unary(i)
        if i < 0:
            return -1
        while True:
            j = self._scan_comparison_step(i)
            if j < 0:
                return i
            i = j

    def _scan_comparison_step(self, i: int) -> int:
        kind = self._token(i).kind
        if kind in _RELATIONS:
            return self._scan_unary(i + 1)
        if kind == BETWEEN:
            return self._scan_between(i + 1)
        if kind == NOT:
            j = self._scan(i + 1, BETWEEN)
            if j >= 0 and (k := self._scan_between(j)) >= 0:
                return k
            j = self._scan(i + 1, IN)
            return -1 if j < 0 else self._scan_in(j)
        if kind == IN:
            return self._scan_in(i + 1)
        return -1

    def _scan_between(self, i: int) -> int:
        i = self._scan_unary(i)
        if i < 0 or (i := self._scan(i, AND)) < 0:
            return -1
        return self._scan_unary(i)

    def _scan_in(self, i: int) -> int:
        i = self._scan(i, LPAREN)
        if i < 0 or (i := self._scan(i, STRING_LITERAL)) < 0:
            return -1
        while self._token(i).kind == COMMA and self._token(i + 1).kind == STRING_LITERAL:
            i += 2
        return self._scan(i, RPAREN)

    # -- the grammar --------------------------------------------------------------------------------------------------

    def parse(self) -> Expr:
        """JmsSelector: an orExpression that yields a boolean; what follows it is never read."""
        return self.condition(self.or_expression())

    def condition(self, expr: Expr) -> Expr:
        try:
            return ex.as_condition(expr)
        except ex.NotBoolean as exc:
            raise ParseError(exc.message) from None

    def _binary(self, point: int, op: int, operand: Callable[[], Expr], name: str) -> Expr:
        left = operand()
        while True:
            if self.peek() != op:
                self.fall_through(point)
                return left
            self.consume(op)
            right = operand()
            left = ex.logic(name, self.condition(left), self.condition(right))

    def or_expression(self) -> Expr:
        return self._binary(0, OR, self.and_expression, "OR")

    def and_expression(self) -> Expr:
        return self._binary(1, AND, self.equality_expression, "AND")

    def equality_expression(self) -> Expr:
        left = self.comparison_expression()
        while True:
            kind = self.peek()
            if kind not in (IS, EQ, NE):
                self.fall_through(2)
                return left
            if kind in (EQ, NE):
                self.consume(kind)
                right = self.comparison_expression()
                left = ex.equal(left, right) if kind == EQ else ex.not_equal(left, right)
                continue
            self.fall_through(3)
            if self._ahead(IS, NULL):
                self.consume(IS)
                self.consume(NULL)
                left = ex.is_null(left)
            elif self.peek() == IS:
                self.consume(IS)
                self.consume(NOT)
                self.consume(NULL)
                left = ex.is_not_null(left)
            else:
                raise self.fail(4)

    def comparison_expression(self) -> Expr:
        left = self.unary_expression()
        while True:
            kind = self.peek()
            if kind not in (NOT, BETWEEN, IN, GT, GE, LT, LE):
                self.fall_through(5)
                return left
            if kind in _RELATIONS:
                self.consume(kind)
                left = ex.relation(_RELATIONS[kind], left, self.unary_expression())
            elif kind == BETWEEN:
                self.consume(BETWEEN)
                low = self.unary_expression()
                self.consume(AND)
                left = ex.between(left, low, self.unary_expression())
            else:
                self.fall_through(8)
                if self._ahead(NOT, BETWEEN):
                    self.consume(NOT)
                    self.consume(BETWEEN)
                    low = self.unary_expression()
                    self.consume(AND)
                    left = ex.not_between(left, low, self.unary_expression())
                elif self.peek() == IN:
                    self.consume(IN)
                    left = ex.in_list(left, self._string_list(6), False)
                else:
                    self.fall_through(9)
                    if not self._ahead(NOT, IN):
                        raise self.fail(9)
                    self.consume(NOT)
                    self.consume(IN)
                    left = ex.in_list(left, self._string_list(7), True)

    def _string_list(self, point: int) -> list[str]:
        self.consume(LPAREN)
        items = [self.string_literal()]
        while self.peek() == COMMA:
            self.consume(COMMA)
            items.append(self.string_literal())
        self.fall_through(point)
        self.consume(RPAREN)
        return items

    def unary_expression(self) -> Expr:
        if self.peek() == PLUS and self._scan_unary(self.index + 2) >= 0:
            self.consume(PLUS)
            return self.unary_expression()
        kind = self.peek()
        if kind == MINUS:
            self.consume(MINUS)
            return ex.negate_of(self.unary_expression())
        if kind == NOT:
            self.consume(NOT)
            return ex.not_of(self.condition(self.unary_expression()))
        if kind in _PRIMARY:
            return self.primary_expression()
        raise self.fail(10)

    def primary_expression(self) -> Expr:
        kind = self.peek()
        if kind in _LITERALS:
            return self.literal()
        if kind == ID:
            return ex.prop(self.consume(ID).image)
        if kind == LPAREN:
            self.consume(LPAREN)
            inner = self.or_expression()
            self.consume(RPAREN)
            return inner
        raise self.fail(11)

    def literal(self) -> Expr:
        kind = self.peek()
        if kind == STRING_LITERAL:
            return ex.constant(self.string_literal())
        if kind == DECIMAL_LITERAL:
            return ex.constant(from_decimal(self.consume(kind).image))
        if kind == FLOATING_POINT_LITERAL:
            return ex.constant(from_float(self.consume(kind).image))
        if kind in (TRUE, FALSE, NULL):
            self.consume(kind)
            return ex.constant({TRUE: True, FALSE: False}.get(kind), boolean=True)
        raise self.fail(12)

    def string_literal(self) -> str:
        return from_utf16_units(self.consume(STRING_LITERAL).image[1:-1].replace("''", "'"))


def from_decimal(text: str) -> JInt | JLong:
    """ConstantExpression.createFromDecimal: a Long, narrowed to Integer when it fits."""
    digits = text[:-1] if text[-1] in "lL" else text
    value = parse_integral(digits, 64)
    return JInt(value) if -(1 << 31) <= value < 1 << 31 else JLong(value)


def from_float(text: str) -> float:
    """ConstantExpression.createFloat: a Double; infinity and zero (below Double.MIN_VALUE) are refused."""
    value = float(text)
    if value > DOUBLE_MAX:
        raise JavaError(f"{text} is greater than {double_to_string(DOUBLE_MAX)}")
    if value < DOUBLE_MIN:
        raise JavaError(f"{text} is less than {double_to_string(DOUBLE_MIN)}")
    return value


__all__ = ["NumberFormatError", "ParseError", "SelectorParser"]
