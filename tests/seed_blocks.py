"""A seed quickstart's Python blocks, run in order in one namespace the way a notebook would run them.

The acceptance of the vision seeds is that their printed code runs against Percept with only the endpoint, the key
and the image URLs changed; this module reads the blocks out of the seed text and applies exactly those edits, each
checked against the text it expects to find, so that a changed seed fails loudly instead of running something else.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
from dataclasses import dataclass, field
from typing import Any

# ```python, ```Python and ```py fences; ```bash and ```Bash blocks are not Python and are not run.
FENCE = re.compile(r"^```(?:python|py)[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL | re.IGNORECASE)
URL = re.compile(r"https?://[^\s\"'<>]+")


def code_blocks(text: str) -> list[str]:
    return [m.group(1) for m in FENCE.finditer(text)]


@dataclass
class Notebook:
    """The seed's blocks with their edits applied; ``run_through`` executes them up to a marker, in order.

    ``urls`` lists, in order of appearance, each http(s) URL of the code and what replaces it: every URL the code
    holds must be listed and every listed one must be there. ``edits`` are (old, new) replacements of other text
    (each must occur). ``skip`` holds markers of blocks that are not run (with the reason in the caller).
    """

    name: str
    blocks: list[str]
    urls: list[tuple[str, str]]
    edits: list[tuple[str, str]] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    namespace: dict[str, Any] = field(default_factory=dict)
    printed: list[str] = field(default_factory=list)
    shown: list[Any] = field(default_factory=list)
    next_block: int = 0

    def __post_init__(self) -> None:
        self.blocks = [b for b in self.blocks if not any(marker in b for marker in self.skip)]
        pending = list(self.urls)
        edited = []
        for block in self.blocks:
            for old, new in self.edits:
                block = block.replace(old, new)
            edited.append(URL.sub(lambda m: _next_url(m.group(0), pending), block))
        assert not pending, f"{self.name}: URLs expected but not in the code: {pending}"
        joined = "\n".join(self.blocks)
        for old, _ in self.edits:
            assert old in joined, f"{self.name}: expected {old!r} in the code"
        self.blocks = edited

    def run_through(self, marker: str) -> str:
        """Run the blocks not yet run, up to the first that holds ``marker``; returns what that block printed."""
        while self.next_block < len(self.blocks):
            index, block = self.next_block, self.blocks[self.next_block]
            self.next_block += 1
            self._run(index, block)
            if marker in block:
                return self.printed[-1]
        raise AssertionError(f"{self.name}: no block left that holds {marker!r}")

    def run_again(self, marker: str) -> str:
        """Run once more the (already run) block that holds ``marker``, as re-running a notebook cell does."""
        index = next(i for i, b in enumerate(self.blocks[: self.next_block]) if marker in b)
        self._run(index, self.blocks[index])
        return self.printed[-1]

    def _run(self, index: int, source: str) -> None:
        """Exec one block; a final bare expression is evaluated and kept in ``shown`` as a notebook's Out[] is."""
        tree = ast.parse(source, filename=f"<{self.name} block {index}>")
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.Expr):
            tree.body.pop()
        else:
            last = None
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(tree, f"<{self.name} block {index}>", "exec"), self.namespace)
            value = eval(_expression(last, self.name, index), self.namespace) if last is not None else None
        self.printed.append(out.getvalue())
        self.shown.append(value)


def _expression(node: ast.Expr, name: str, index: int) -> Any:
    return compile(ast.Expression(node.value), f"<{name} block {index}>", "eval")


def _next_url(found: str, pending: list[tuple[str, str]]) -> str:
    assert pending, f"URL {found} in the code is not in the replacement list"
    old, new = pending.pop(0)
    assert found == old, f"URL {found} found where {old} was expected"
    return new
