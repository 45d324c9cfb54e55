"""Imports run one way: pipeline → runs → train → models (leaf modules at the bottom), with no
circles anywhere in genlib, and every module imports on its own."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "genlib"


def module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def _path(name: str) -> Path:
    base = ROOT.joinpath(*name.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def imports_of(name: str, known: set[str]) -> set[str]:
    """Every genlib module `name` imports (top level or inside functions), by absolute name."""
    path = _path(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def graph() -> dict[str, set[str]]:
    known = set(module_names())
    return {name: imports_of(name, known) for name in known}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in g:
        if v not in index:
            visit(v)
    return out


def reaches(g: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in g[todo.pop()] - seen:
            seen.add(w)
            todo.append(w)
    return seen


def test_the_walker_finds_a_circle_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    g = graph()
    assert "genlib.train" in g["genlib.runs"] and "genlib.models.base" in g["genlib.train"]


def test_no_import_circles_in_genlib():
    assert cycles(graph()) == []


def test_layers_import_one_way():
    g = graph()
    upper = {"genlib.pipeline", "genlib.jobs", "genlib.cli"}
    assert not reaches(g, "genlib.train") & (upper | {"genlib.runs"}), "the loop must not save or orchestrate"
    assert not reaches(g, "genlib.runs") & upper
    assert not reaches(g, "genlib.pipeline") & {"genlib.cli", "genlib.jobs"}
    for name in g:
        if name.startswith("genlib.models"):
            assert not reaches(g, name) & (upper | {"genlib.runs", "genlib.train"}), name
    for leaf in ("genlib.errors", "genlib.settings", "genlib.device", "genlib.freq", "genlib.cli.args",
                 "genlib.workspace"):
        assert reaches(g, leaf) <= {"genlib.errors"}, leaf
    assert reaches(g, "genlib.limits") <= {"genlib.errors", "genlib.settings"}


def test_genlib_never_imports_the_app():
    for name in module_names():
        tree = ast.parse(_path(name).read_text())
        mods = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        mods |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m for m in mods if m.split(".")[0] in ("streamlit", "app_pages")}, name


def test_every_module_imports_on_its_own():
    """Each module imported first, in a process where no other genlib module is loaded yet."""
    code = (
        "import importlib, sys\n"
        f"names = {module_names()!r}\n"
        "failed = []\n"
        "for name in names:\n"
        "    for m in [m for m in sys.modules if m == 'genlib' or m.startswith('genlib.')]:\n"
        "        del sys.modules[m]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_files_stay_small():
    big = [f"{p.relative_to(ROOT)}: {n}" for p in [*PACKAGE.rglob("*.py"), *(ROOT / "app_pages").glob("*.py")]
           if (n := len(p.read_text().splitlines())) > 500]
    assert not big, big
