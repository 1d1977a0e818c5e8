"""Random SQL92 expressions (well-formed or token soup) for property tests and the differential oracle test."""

from __future__ import annotations

import random

ATOMS = ["a", "b", "s", "x", "TAGS", "1", "5", "-3", "10", "2147483648", "1.5", "1e3", "'5'", "'x'", "'abc'", "''",
         "TRUE", "FALSE", "NULL", "0.5", "1L", ".5", "5."]  # fmt: skip
NUMBERS = ["1", "5", "-3", "10", "2147483648", "1.5", "1e3", "0.5", "1L", ".5", "5."]
OPS = ["=", "<>", ">", ">=", "<", "<="]
TOKENS = [*ATOMS, "007", *OPS, "AND", "OR", "NOT", "IN", "BETWEEN", "IS", "(", ")", ",", "+", "-", "#", ".", "'", "/*",
          "--\n", "\n", "\t", "é"]  # fmt: skip
VALUES = ["5", "10", "-3", "abc", "x", "1.5", "true", "TRUE", "false", "2147483648", "", " 7 ", "NaN", "1e3", "TagA"]


class Generator:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    def unary(self, depth: int) -> str:
        r = self.rnd.random()
        if depth > 3 or r < 0.5:
            return self.rnd.choice(ATOMS)
        if r < 0.6:
            return "-" + self.unary(depth + 1)
        if r < 0.65:
            return "+" + self.unary(depth + 1)
        if r < 0.75:
            return "NOT " + self.unary(depth + 1)
        return "(" + self.expression(depth + 1) + ")"

    def comparison(self, depth: int) -> str:
        left = self.unary(depth)
        r = self.rnd.random()
        negated = "NOT " if self.rnd.random() < 0.3 else ""
        if r < 0.45:
            return f"{left} {self.rnd.choice(OPS)} {self.unary(depth)}"
        if r < 0.55:
            return f"{left} {negated}BETWEEN {self.unary(depth)} AND {self.unary(depth)}"
        if r < 0.65:
            items = ", ".join(f"'{self.rnd.choice(VALUES)}'" for _ in range(self.rnd.randint(1, 6)))
            return f"{left} {negated}IN ({items})"
        if r < 0.75:
            return f"{left} IS {'NOT ' if self.rnd.random() < 0.5 else ''}NULL"
        return left

    def expression(self, depth: int = 0) -> str:
        text = self.comparison(depth)
        for _ in range(self.rnd.randint(0, 2)):
            text += f" {self.rnd.choice(['AND', 'OR'])} {self.comparison(depth)}"
        return text

    def soup(self) -> str:
        return " ".join(self.rnd.choice(TOKENS) for _ in range(self.rnd.randint(1, 7)))

    def properties(self) -> dict[str, str]:
        return {name: self.rnd.choice(VALUES) for name in ("a", "b", "s", "TAGS") if self.rnd.random() < 0.8}
