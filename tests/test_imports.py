"""The modules form layers: no import circle (counting the imports inside functions too), and
the engine and everything below it import no sheet, picture or reader module."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "stepviz"


def modules() -> dict[str, Path]:
    out = {}
    for p in PACKAGE.rglob("*.py"):
        parts = p.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


def graph() -> dict[str, set[str]]:
    """Module -> the stepviz modules it imports anywhere in its text (a submodule's import of
    its own package aside: that package is being imported already)."""
    mods = modules()
    g = {}
    for m, path in mods.items():
        package = m if path.name == "__init__.py" else m.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                deps.update(t for t in [target, *(f"{target}.{a.name}" for a in node.names)] if t in mods)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in mods)
        for d in list(deps):  # importing a.b.c runs the package a.b first
            parts = d.split(".")
            deps.update(".".join(parts[:i]) for i in range(2, len(parts)))
        g[m] = {d for d in deps if d != m and not m.startswith(d + ".")}
    return g


def cycle(g: dict[str, set[str]]) -> list[str]:
    """One import circle of ``g``, or []."""
    state, stack = {}, []

    def visit(v):
        state[v] = "open"
        stack.append(v)
        for w in sorted(g[v]):
            if state.get(w) == "open":
                return stack[stack.index(w):] + [w]
            if w not in state and (found := visit(w)):
                return found
        state[v] = "done"
        stack.pop()
        return []

    for v in sorted(g):
        if v not in state and (found := visit(v)):
            return found
    return []


def test_no_import_circle():
    assert cycle(graph()) == []


def test_the_check_finds_a_circle():
    g = graph()
    g["stepviz.text"] = g["stepviz.text"] | {"stepviz.config"}  # what text → config used to be
    assert cycle(g)


def below(g, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in g[todo.pop()] - seen:
            seen.add(w)
            todo.append(w)
    return seen


@pytest.mark.parametrize("module", ["stepviz.engine", "stepviz.config", "stepviz.steps", "stepviz.text",
                                    "stepviz.limits", "stepviz.ops", "stepviz.terms"])
def test_the_engine_and_below_know_no_sheet_or_picture(module):
    reached = below(graph(), module)
    drawn = {m for m in reached if m.startswith("stepviz.workbook") or m in (
        "stepviz.notebook", "stepviz.maps", "stepviz.reader", "stepviz.cli")}
    assert not drawn, f"{module} imports {sorted(drawn)}"
