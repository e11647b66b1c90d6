"""Expressions as text to a tree: the tokenizer, the recursive-descent parser and its nodes."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from vdcaudit.collectors.arm_expressions.limits import MAX_EXPRESSION_CHARS, MAX_EXPRESSION_DEPTH, TemplateExpressionError, TemplateLimitError


@dataclass(frozen=True)
class Token:
    kind: str  # "string", "number", "name", or the punctuation character itself
    value: Any
    position: int


_PUNCTUATION = "(),.[]"
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"-?[0-9]+")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in _PUNCTUATION:
            tokens.append(Token(char, char, i))
            i += 1
        elif char == "'":
            # single-quoted string; a quote inside is written twice ('it''s')
            start, i, parts = i, i + 1, []
            while True:
                end = text.find("'", i)
                if end < 0:
                    raise TemplateExpressionError(f"unterminated string starting at character {start + 1}")
                parts.append(text[i:end])
                if text.startswith("''", end):
                    parts.append("'")
                    i = end + 2
                    continue
                i = end + 1
                break
            tokens.append(Token("string", "".join(parts), start))
        elif (match := _NUMBER.match(text, i)) is not None:
            tokens.append(Token("number", int(match.group()), i))
            i = match.end()
        elif (match := _NAME.match(text, i)) is not None:
            tokens.append(Token("name", match.group(), i))
            i = match.end()
        else:
            raise TemplateExpressionError(f"unexpected character {char!r} at character {i + 1}")
    return tokens


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Access:
    """`target.name` or `target[index]`."""

    target: Any
    key: Any  # a Literal for `.name`, any node for `[...]`


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self, kind: str) -> bool:
        return self.i < len(self.tokens) and self.tokens[self.i].kind == kind

    def take(self, kind: str) -> Token:
        if not self.peek(kind):
            found = repr(self.tokens[self.i].value) if self.i < len(self.tokens) else "the end"
            raise TemplateExpressionError(f"expected {kind!r} but found {found}")
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Any:
        node = self.expression()
        if self.i != len(self.tokens):
            raise TemplateExpressionError(f"unexpected {self.tokens[self.i].value!r} after the expression")
        return node

    def expression(self) -> Any:
        self.depth += 1
        if self.depth > MAX_EXPRESSION_DEPTH:
            raise TemplateLimitError(f"an expression nests calls deeper than {MAX_EXPRESSION_DEPTH} levels")
        try:
            return self._access_chain()
        finally:
            self.depth -= 1

    def _access_chain(self) -> Any:
        node = self.primary()
        while True:
            if self.peek("."):
                self.take(".")
                node = Access(node, Literal(self.take("name").value))
            elif self.peek("["):
                self.take("[")
                node = Access(node, self.expression())
                self.take("]")
            else:
                return node

    def primary(self) -> Any:
        if self.peek("string") or self.peek("number"):
            token = self.tokens[self.i]
            self.i += 1
            return Literal(token.value)
        name = self.take("name").value
        if self.peek("."):  # a user-defined function: namespace.function(...)
            self.take(".")
            name = f"{name}.{self.take('name').value}"
        if not self.peek("("):
            bare = {"true": True, "false": False, "null": None}
            if name.lower() in bare:
                return Literal(bare[name.lower()])
            raise TemplateExpressionError(f"'{name}' is not a function call (missing '(')")
        self.take("(")
        args: list[Any] = []
        if not self.peek(")"):
            args.append(self.expression())
            while self.peek(","):
                self.take(",")
                args.append(self.expression())
        self.take(")")
        return Call(name, tuple(args))


@functools.lru_cache(maxsize=8192)
def parse(text: str) -> Any:
    """Parse the inside of `[...]` (the tree is immutable, so one parse serves every copy iteration)."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise TemplateLimitError(f"an expression of {len(text):,} characters (ARM allows {MAX_EXPRESSION_CHARS:,})")
    return _Parser(text).parse()


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and value.endswith("]") \
        and not value.startswith("[[")
