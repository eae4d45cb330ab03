"""Sizes of the package code: every module over 600 lines and every function over 80.

Run: ``.venv/bin/python benchmarks/sizes.py [--compare REV] [--modules N] [--functions N]``

Reads the package code (``planner``, ``geodata``, ``maps``, ``api``; ``api/migrations``
left out) with :mod:`ast`. A module's size is its number of lines; a function's (or
method's, nested ones included, named by their qualified name) runs from its ``def`` line to
its last line, decorators left out. Prints one table of the modules and one of the functions
over the limits, with the totals (package lines, modules and functions over the limits).

``--compare REV`` reads the same files as they were at ``REV`` (``git show REV:path``) and
prints before and after side by side: a row for everything over a limit on either side, ``-``
where a module or function does not exist (it moved or was split) or is under the limit.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("planner", "geodata", "maps", "api")
EXCLUDED = ("api/migrations/",)
MODULE_LIMIT = 600
FUNCTION_LIMIT = 80


@dataclass(frozen=True)
class Sizes:
    """The sizes of one tree: lines per module and per function (``path::qualname``)."""

    modules: dict[str, int]
    functions: dict[str, int]

    @property
    def total_lines(self) -> int:
        return sum(self.modules.values())


def _wanted(path: str) -> bool:
    return (
        path.endswith(".py")
        and path.split("/", 1)[0] in PACKAGES
        and not any(path.startswith(prefix) for prefix in EXCLUDED)
    )


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """``(qualified name, lines)`` of every function in ``tree``, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            assert node.end_lineno is not None
            yield name, node.end_lineno - node.lineno + 1
            yield from _functions(node, f"{name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


def measure(sources: dict[str, str]) -> Sizes:
    """The sizes of the modules given as ``{path: source}``."""
    modules: dict[str, int] = {}
    functions: dict[str, int] = {}
    for path, source in sorted(sources.items()):
        modules[path] = len(source.splitlines())
        for name, lines in _functions(ast.parse(source, filename=path)):
            functions[f"{path}::{name}"] = lines
    return Sizes(modules, functions)


def working_tree() -> dict[str, str]:
    """The package sources of this checkout."""
    paths = [p.relative_to(ROOT).as_posix() for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    return {p: (ROOT / p).read_text(encoding="utf-8") for p in paths if _wanted(p)}


def at_revision(rev: str) -> dict[str, str]:
    """The package sources as they were at ``rev`` (``git ls-tree`` / ``git show``)."""
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", rev, "--", *PACKAGES],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return {
        path: subprocess.run(
            ["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        for path in listing
        if _wanted(path)
    }


def _cell(value: int | None, limit: int) -> str:
    if value is None or value <= limit:
        return "-" if value is None else f"[dim]{value}[/dim]"
    return str(value)


def _table(
    title: str, names: list[str], columns: list[tuple[str, dict[str, int]]], limit: int
) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("name")
    for header, _ in columns:
        table.add_column(header, justify="right")
    for name in names:
        table.add_row(name, *(_cell(sizes.get(name), limit) for _, sizes in columns))
    return table


def _over(sizes: dict[str, int], limit: int) -> set[str]:
    return {name for name, lines in sizes.items() if lines > limit}


def report(trees: list[tuple[str, Sizes]], module_limit: int, function_limit: int) -> None:
    """Print the tables of ``trees`` (one column each) and their totals."""
    console = Console(width=160)
    for kind, limit, get in (
        ("modules", module_limit, lambda s: s.modules),
        ("functions", function_limit, lambda s: s.functions),
    ):
        columns = [(header, get(sizes)) for header, sizes in trees]
        names = set().union(*(_over(sizes, limit) for _, sizes in columns))
        ordered = sorted(names, key=lambda n: (-max(s.get(n, 0) for _, s in columns), n))
        console.print(_table(f"{kind} over {limit} lines", ordered, columns, limit))
    totals = Table(title="totals", title_justify="left")
    totals.add_column("")
    for header, _ in trees:
        totals.add_column(header, justify="right")
    totals.add_row("package lines", *(f"{s.total_lines:,}" for _, s in trees))
    totals.add_row("modules", *(str(len(s.modules)) for _, s in trees))
    totals.add_row(
        f"modules over {module_limit}",
        *(str(len(_over(s.modules, module_limit))) for _, s in trees),
    )
    totals.add_row(
        f"functions over {function_limit}",
        *(str(len(_over(s.functions, function_limit))) for _, s in trees),
    )
    console.print(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", metavar="REV", help="print REV's sizes beside these")
    parser.add_argument("--modules", type=int, default=MODULE_LIMIT, help="module limit (lines)")
    parser.add_argument("--functions", type=int, default=FUNCTION_LIMIT, help="function limit")
    args = parser.parse_args()
    trees = [("lines", measure(working_tree()))]
    if args.compare:
        trees = [(f"at {args.compare}", measure(at_revision(args.compare))), ("now", trees[0][1])]
    report(trees, args.modules, args.functions)


if __name__ == "__main__":
    main()
