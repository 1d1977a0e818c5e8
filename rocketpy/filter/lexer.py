"""The token manager of filter.parser.SelectorParser (SelectorParser.jj), lazily, one token per request.

Java lexes on demand: the parser stops once it has an expression and never looks past the token after it, so
trailing garbage (even an illegal character two tokens on) is not an error. Token kinds and images, line/column
numbering (SimpleCharStream: tabs to the next multiple of 8) and the TokenMgrError text are Java's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rocketpy.filter.values import JavaError

EOF, NOT, AND, OR, BETWEEN, IN, TRUE, FALSE, NULL, IS = 0, 8, 9, 10, 11, 12, 13, 14, 15, 16
DECIMAL_LITERAL, FLOATING_POINT_LITERAL, STRING_LITERAL, ID = 17, 18, 20, 21
EQ, NE, GT, GE, LT, LE, LPAREN, COMMA, RPAREN, PLUS, MINUS = range(22, 33)

TOKEN_IMAGE = (
    "<EOF>", '" "', '"\\t"', '"\\n"', '"\\r"', '"\\f"', "<LINE_COMMENT>", "<BLOCK_COMMENT>",
    '"NOT"', '"AND"', '"OR"', '"BETWEEN"', '"IN"', '"TRUE"', '"FALSE"', '"NULL"', '"IS"',
    "<DECIMAL_LITERAL>", "<FLOATING_POINT_LITERAL>", "<EXPONENT>", "<STRING_LITERAL>", "<ID>",
    '"="', '"<>"', '">"', '">="', '"<"', '"<="', '"("', '","', '")"', '"+"', '"-"',
)  # fmt: skip

KEYWORDS = {"not": NOT, "and": AND, "or": OR, "between": BETWEEN, "in": IN, "true": TRUE, "false": FALSE,
            "null": NULL, "is": IS}  # fmt: skip
OPERATORS = {"<>": NE, ">=": GE, "<=": LE, "=": EQ, ">": GT, "<": LT, "(": LPAREN, ",": COMMA, ")": RPAREN,
             "+": PLUS, "-": MINUS}  # fmt: skip

_WHITESPACE = " \t\n\r\f"
_ID = re.compile(r"[a-zA-Z_$][a-zA-Z0-9_$]*")
_DECIMAL = re.compile(r"(0|[1-9][0-9]*[lL]?)")
_FLOAT = re.compile(r"([0-9]+\.[0-9]*([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)")
_STRING = re.compile(r"'(''|[^'])*'")
_LINE_COMMENT = re.compile(r"--[^\n\r]*(\n|\r\n?)")
_BLOCK_COMMENT = re.compile(r"/\*[^*]*\*+([^*/][^*]*\*+)*/")
TAB_SIZE = 8


class LexicalError(JavaError):
    java_class = "org.apache.rocketmq.filter.parser.TokenMgrError"


@dataclass(slots=True)
class Token:
    kind: int
    image: str
    line: int
    column: int


def add_escapes(text: str) -> str:
    """ParseException.add_escapes / TokenMgrError.addEscapes."""
    out = []
    for ch in text:
        if ch == "\0":
            continue
        special = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "'": "\\'",
                   "\\": "\\\\"}.get(ch)  # fmt: skip
        if special is not None:
            out.append(special)
        elif ord(ch) < 0x20 or ord(ch) > 0x7E:
            out.extend(f"\\u{unit:04x}" for unit in _utf16_units(ch))
        else:
            out.append(ch)
    return "".join(out)


def _utf16_units(ch: str) -> list[int]:
    data = ch.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def utf16_units(text: str) -> str:
    """The text as Java sees it: a supplementary char becomes its two surrogates (columns count them)."""
    if text.isascii() or all(ord(c) <= 0xFFFF for c in text):
        return text
    return "".join(map(chr, _utf16_units(text)))


def from_utf16_units(text: str) -> str:
    """Surrogate pairs of a literal joined back into the chars a property value holds."""
    if text.isascii():
        return text
    return text.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "replace")


def _positions(text: str) -> list[tuple[int, int]]:
    """SimpleCharStream.UpdateLineColumn for every char (Java counts UTF-16 units; so does this)."""
    line, column, after_cr, after_lf = 1, 0, False, False
    out = []
    for ch in text:
        column += 1
        if after_lf:
            after_lf = False
            line, column = line + 1, 1
        elif after_cr:
            after_cr = False
            if ch == "\n":
                after_lf = True
            else:
                line, column = line + 1, 1
        if ch == "\r":
            after_cr = True
        elif ch == "\n":
            after_lf = True
        elif ch == "\t":
            column -= 1
            column += TAB_SIZE - (column % TAB_SIZE)
        out.append((line, column))
    return out


class Lexer:
    def __init__(self, text: str) -> None:
        self.text = utf16_units(text)
        self.pos = 0
        self._positions = _positions(self.text)

    def _at(self, index: int) -> tuple[int, int]:
        return self._positions[index] if self._positions else (0, 0)

    def next_token(self) -> Token:
        text, n = self.text, len(self.text)
        while True:
            i = self.pos
            if i >= n:
                line, column = self._at(n - 1)
                return Token(EOF, "", line, column)
            ch = text[i]
            if ch in _WHITESPACE:
                self.pos += 1
                continue
            comment = _LINE_COMMENT if ch == "-" else _BLOCK_COMMENT if ch == "/" else None
            if comment is not None and (m := comment.match(text, i)):
                self.pos = m.end()
                continue
            break
        kind, end = self._match(i)
        if kind < 0:
            raise self._error(i)
        self.pos = end
        line, column = self._at(i)
        return Token(kind, text[i:end], line, column)

    def _match(self, i: int) -> tuple[int, int]:
        """The longest match; on a tie the first declared kind (keywords before ID, DECIMAL before FLOAT)."""
        text = self.text
        best_kind, best_end = -1, i
        for kind, pattern in ((DECIMAL_LITERAL, _DECIMAL), (FLOATING_POINT_LITERAL, _FLOAT), (STRING_LITERAL, _STRING)):
            m = pattern.match(text, i)
            if m and m.end() > best_end:
                best_kind, best_end = kind, m.end()
        m = _ID.match(text, i)
        if m and m.end() > best_end:
            best_kind, best_end = KEYWORDS.get(m.group().lower(), ID), m.end()
        for image in (text[i : i + 2], text[i : i + 1]):
            op = OPERATORS.get(image)
            if op is not None and i + len(image) > best_end:
                best_kind, best_end = op, i + len(image)
                break
        return best_kind, best_end

    def _error(self, i: int) -> LexicalError:
        """SelectorParserTokenManager.getNextToken's TokenMgrError.

        The automaton reads while some token could still match: an unterminated string or comment runs to the
        end of the input ("<EOF> after" what was read); a "." or "/" not followed by a digit or "*" dies on the
        next char, a char no token starts with on itself. The char it died on is reported, or <EOF> one column
        on when nothing follows it.
        """
        text, n = self.text, len(self.text)
        if text[i] == "'" or text.startswith("/*", i):
            line, column = self._at(n - 1)
            if text[n - 1] in "\r\n":
                line, column = line + 1, 0
            else:
                column += 1
            after = text[i:] if n - i > 1 else ""
            return LexicalError(
                f'Lexical error at line {line}, column {column}.  Encountered: <EOF> after : "{add_escapes(after)}"'
            )
        dead = i + 1 if text[i] in "./" and i + 1 < n else i
        after = text[i:dead]
        line, column = self._at(dead)
        if dead + 1 >= n:
            column += 1
            seen = "<EOF> "
            after = text[i : dead + 1] if dead > i else ""
        else:
            ch = text[dead]
            seen = f'"{add_escapes(ch)}" ({_utf16_units(ch)[0]}), '
        return LexicalError(
            f'Lexical error at line {line}, column {column}.  Encountered: {seen}after : "{add_escapes(after)}"'
        )
