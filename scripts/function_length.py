#!/usr/bin/env python3
"""Fail when a function in review/ or compliance/ is longer than the limit (120 lines):
a route is a few lines and domain functions stay readable. `make lint` runs it.

    python scripts/function_length.py [--max 120] [FOLDER ...]
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("review", "compliance")
LIMIT = 120


def long_functions(path: Path, limit: int) -> Iterator[tuple[int, str, int]]:
    """(line, name, length) of every function in the file longer than `limit` lines,
    decorators and docstring included."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - first + 1
            if length > limit:
                yield node.lineno, node.name, length


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=LIMIT, help="longest function allowed")
    parser.add_argument("folders", nargs="*", default=[str(ROOT / f) for f in FOLDERS])
    args = parser.parse_args(argv)
    found = 0
    for folder in args.folders:
        for path in sorted(Path(folder).rglob("*.py")):
            for line, name, length in long_functions(path, args.max):
                print(f"{path}:{line}: {name} is {length} lines long (at most {args.max})")
                found += 1
    if found:
        print(f"{found} function(s) longer than {args.max} lines", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
