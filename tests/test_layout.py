"""The layout holds (docs/architecture.md): the parts import one way, and no module more than 400 lines.

Read from the code, nothing run: every import of every module of gofail_py/ (by ast: at the top,
under TYPE_CHECKING and inside functions alike, since each means that one module has to know the
other; and a package that loads its modules by listing itself imports each of them). A part says what it must not import in its __init__.py docstring, a module in its own:

    Must not import: gofail_py.client, gofail_py.scenario

(the list may go on over indented lines); the package's docstring names the shared leaves.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from gofail_py._moved import MOVED
from tests.support.goprog import REPO

GENERATED = ("compiled_templates",)  # folders of generated modules: what Jinja2 wrote, not ours
MAX_LINES = 400
_RULE = re.compile(r"^Must not import:((?:.*,\n)*.*)$", re.M)
_LEAVES = re.compile(r"^Shared leaves:((?:.*,\n)*.*)$", re.M)


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module it names (the nearest that exists)
    written: str  # the dotted name as written (`from P import m` gives P.m)
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} (line {self.line})"


def modules(package: Path) -> dict[str, Path]:
    """Every module of the package by its dotted name, generated ones left out."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent).with_suffix("")
        if any(part in GENERATED for part in relative.parts):
            continue
        name = ".".join(relative.parts).removesuffix(".__init__")
        found[name] = path
    return found


def _absolute(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".") if is_package else source.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports(found: dict[str, Path], top: str, moved: Mapping[str, str]) -> Iterator[Import]:
    """Every import of ours in every module, wherever it stands in the module; a package that
    loads its modules by listing itself (`pkgutil.iter_modules(__path__)`) imports each of them."""
    for source, path in found.items():
        text = path.read_text(encoding="utf-8")
        if path.name == "__init__.py" and "iter_modules(__path__)" in text:
            for child in found:
                if child.rpartition(".")[0] == source:
                    yield Import(source, child, child, 0)
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.Import):
                written = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(source, path.name == "__init__.py", node)
                written = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in found or f"{base}.{alias.name}" in moved
                           else base for alias in node.names]
            else:
                continue
            for name in written:
                if name != top and not name.startswith(top + "."):
                    continue
                target = name
                while target not in found and "." in target:
                    target = target.rpartition(".")[0]
                if target != source:
                    yield Import(source, target, name, node.lineno)


def circles(edges: dict[str, list[Import]]) -> list[list[Import]]:
    """One loop of imports for each group of modules that import one another (Tarjan's SCC)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # recursion depth is bounded by the number of modules
        index[node] = low[node] = len(index)
        stack.append(node)
        for edge in edges.get(node, []):
            if edge.target not in index:
                visit(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [_loop(group, edges) for group in groups]


def _loop(group: set[str], edges: dict[str, list[Import]]) -> list[Import]:
    """A shortest way round from the group's first module back to it, import by import."""
    start = min(group)
    paths: dict[str, list[Import]] = {start: []}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for edge in edges.get(node, []):
                if edge.target == start:
                    return paths[node] + [edge]
                if edge.target in group and edge.target not in paths:
                    paths[edge.target] = paths[node] + [edge]
                    following.append(edge.target)
        frontier = following
    raise AssertionError(f"no loop through {start}")


def _names(match: re.Match[str]) -> list[str]:
    return [name.strip() for name in match.group(1).replace("\n", " ").split(",") if name.strip()]


def rules(found: dict[str, Path]) -> dict[str, list[str]]:
    """What each package (for every module in it) or module must not import, from its docstring."""
    found_rules = {}
    for name, path in found.items():
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        match = _RULE.search(doc)
        if match:
            found_rules[name] = _names(match)
    return found_rules


def shared_leaves(found: dict[str, Path], top: str) -> list[str]:
    doc = ast.get_docstring(ast.parse(found[top].read_text(encoding="utf-8"))) or ""
    match = _LEAVES.search(doc)
    return _names(match) if match else []


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def part_of(module: str, top: str, found: dict[str, Path]) -> str:
    """The part a module belongs to: the subpackage of the top it is in, else itself."""
    head = ".".join(module.split(".")[:2])
    return head if found[head].name == "__init__.py" else module


def problems(package: Path, moved: Mapping[str, str] = MOVED) -> list[str]:
    """Everything the layout forbids, as lines a person can act on (empty: it holds). ``moved``:
    old module paths (gofail_py/_moved.py), which code inside the package must not use."""
    top = package.name
    found = modules(package)
    edges: dict[str, list[Import]] = {name: [] for name in found}
    every = list(imports(found, top, moved))
    for edge in every:
        edges[edge.source].append(edge)
    said = []
    for loop in circles(edges):
        said.append("circle: " + " -> ".join([loop[0].source] + [f"{e.target} ({found[e.source].name}:{e.line or 'listed'})"
                                                                  for e in loop]))
    for owner, forbidden in rules(found).items():
        for edge in every:
            if _under(edge.source, owner) and any(_under(edge.target, f) for f in forbidden):
                said.append(f"forbidden: {edge} imports {edge.target}; {owner}'s docstring says it must not")
    parts: dict[str, list[Import]] = {}
    for edge in every:
        source, target = part_of(edge.source, top, found), part_of(edge.target, top, found)
        if source != target and not _under(source, target):  # a part's modules may use its __init__'s names
            parts.setdefault(source, []).append(Import(source, target, edge.written, edge.line))
    for loop in circles(parts):
        said.append("parts in a circle: " + " -> ".join([loop[0].source] + [e.target for e in loop]))
    leaves = shared_leaves(found, top)
    for name, path in found.items():
        if name != top and path.name != "__init__.py" and name.count(".") == 1 and name not in leaves:
            said.append(f"{name}: a module at the top that is not one of the shared leaves the package's docstring names")
    for edge in every:
        if edge.source in leaves and edge.target not in leaves:
            said.append(f"forbidden: {edge}: a shared leaf imports only other shared leaves")
        if edge.written in moved:
            said.append(f"old path: {edge.source} (line {edge.line}) imports {edge.written}, which moved to {moved[edge.written]}")
    for name, path in found.items():
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > MAX_LINES:
            said.append(f"{path.relative_to(package.parent)}: {lines} lines, more than {MAX_LINES}")
    return said


def test_the_layout_holds() -> None:
    """No circle between modules or between parts, no import a docstring forbids, no old path
    used inside the package, no module over 400 lines."""
    said = problems(REPO / "gofail_py")
    assert not said, "\n".join(said)


def test_every_part_says_what_it_must_not_import() -> None:
    found = modules(REPO / "gofail_py")
    parts = {name for name, path in found.items() if path.name == "__init__.py" and name.count(".") == 1}
    assert parts and parts <= set(rules(found)), sorted(parts - set(rules(found)))


def test_the_checks_find_a_circle_a_forbidden_import_and_an_old_path(tmp_path: Path) -> None:
    """The test above can fail: on a little package made to break each rule."""
    package = tmp_path / "pkg"
    files = {
        "__init__.py": '"""A package.\n\nShared leaves: pkg.errors\n"""\n',
        "errors.py": "from pkg.low import thing\n",
        "stray.py": "",
        "low/__init__.py": '"""The low part.\n\nMust not import: pkg.high,\n    pkg.other\n"""\n',
        "low/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.low import b\n",
        "low/b.py": "def f():\n    from pkg.low.a import g\n    from pkg.high import h\n",
        "high/__init__.py": '"""The high part.\n\nMust not import: pkg.other\n"""\n',
        "high/h.py": "import pkg.low.a\n" + "x = 1\n" * MAX_LINES,
        "high/g.py": "from pkg import old\n",
        "high/listed/__init__.py": "import pkgutil\nNAMES = list(pkgutil.iter_modules(__path__))\n",
        "high/listed/one.py": "from pkg.high import listed\n",
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    said = "\n".join(problems(package, {"pkg.old": "pkg.low.a"}))
    assert "circle: pkg.high.h -> pkg.low.a (h.py:1) -> pkg.low.b (a.py:3) -> pkg.high.h (b.py:3)" in said, said
    assert "forbidden: pkg.low.b -> pkg.high.h (line 3) imports pkg.high.h; pkg.low's docstring says it must not" in said
    assert "parts in a circle: pkg.high -> pkg.low -> pkg.high" in said
    assert "pkg.stray: a module at the top that is not one of the shared leaves" in said
    assert "forbidden: pkg.errors -> pkg.low (line 1): a shared leaf imports only other shared leaves" in said
    assert f"pkg/high/h.py: {MAX_LINES + 1} lines, more than {MAX_LINES}" in said
    assert "old path: pkg.high.g (line 1) imports pkg.old, which moved to pkg.low.a" in said
    assert "circle: pkg.high.listed -> pkg.high.listed.one (__init__.py:listed) -> pkg.high.listed (one.py:1)" in said
