"""Imports run one way: pipeline → runs → train → models (leaf modules at the bottom), with no
circles anywhere in genlib, every module imports on its own, and the training path needs only torch,
numpy and safetensors."""
from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

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
    for leaf in ("genlib.errors", "genlib.settings", "genlib.device", "genlib.hours", "genlib.cli.args",
                 "genlib.workspace", "genlib.subprocesses", "genlib.distributed"):
        assert reaches(g, leaf) <= {"genlib.errors"}, leaf
    assert reaches(g, "genlib.freq") <= {"genlib.errors", "genlib.hours"}    # opening hours: hours.py
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


# ---- a light core: the training path runs on a bare PyTorch install ---------------------------
HEAVY = ("pandas", "scipy", "PIL", "statsmodels", "plotly", "streamlit", "sklearn")
# None in sys.modules: `import pandas` raises ImportError and importlib.util.find_spec("pandas")
# answers None, as when it is not installed (torch asks find_spec about optional packages)
BLOCK = f"import sys\nHEAVY = {HEAVY!r}\nsys.modules.update(dict.fromkeys(HEAVY))\n"


def run_blocked(code: str) -> subprocess.CompletedProcess:
    """`code` in a fresh Python where pandas, scipy, Pillow, statsmodels, plotly, Streamlit and
    scikit-learn cannot be imported, as on a GPU box with only torch, numpy and safetensors."""
    return subprocess.run([sys.executable, "-c", BLOCK + code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_the_blocker_blocks():
    result = run_blocked("import importlib.util\nassert importlib.util.find_spec('scipy') is None\n"
                         "import PIL.Image\n")
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr


def test_the_training_path_needs_only_torch_numpy_and_safetensors():
    code = (
        "import torch\n"
        "import genlib, genlib.data, genlib.device, genlib.models, genlib.sample, genlib.train\n"
        "from genlib import build_model, fit, TrainConfig, sample_images, make_grid\n"
        "from genlib.data.images import images_from_array\n"
        "torch.manual_seed(0)\n"
        "data = images_from_array((torch.rand(32, 1, 16, 16) * 255).byte().numpy(), name='random')\n"
        "model = build_model('vae', data.shape, base_channels=8)\n"
        "state = fit(model, data, TrainConfig(steps=2, batch_size=8, device='cpu'))\n"
        "assert state.status == 'finished' and state.step == 2, (state.status, state.error)\n"
        "assert make_grid(sample_images(model, 4, seed=0)).shape[-1] == 3\n"
        "mnist = genlib.load_builtin('mnist', n=16)\n"
        "assert mnist.shape == (1, 28, 28) and len(mnist) == 16\n"
        "print(sorted(m for m, mod in sys.modules.items() if mod and m.split('.')[0] in HEAVY))\n")
    result = run_blocked(code)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]"


def test_a_run_saves_and_resumes_without_pandas_or_pillow(tmp_path):
    """Saving and resuming a run is part of the light core; only its picture needs Pillow, and is
    left out (with a log line) when Pillow is missing. Reading a run into a table needs pandas."""
    code = (
        "import torch, genlib.runs\n"
        "from genlib.models import build_model\n"
        "from genlib.train import TrainConfig, fit\n"
        "from genlib.data.images import images_from_array\n"
        "data = images_from_array((torch.rand(32, 1, 16, 16) * 255).byte().numpy(), name='random')\n"
        "model = build_model('vae', data.shape, base_channels=8)\n"
        f"run_dir = {str(tmp_path / 'run')!r}\n"
        "info = {'family': 'vae', 'preset': 'quick', 'data': genlib.runs.data_card(data)}\n"
        "state = fit(model, data, TrainConfig(steps=2, batch_size=8, device='cpu'),\n"
        "            writer=genlib.runs.RunWriter(run_dir, info))\n"
        "import pathlib\n"
        "files = sorted(p.name for p in pathlib.Path(run_dir).iterdir())\n"
        "assert 'model.safetensors' in files and 'metrics.csv' in files and 'samples.png' not in files, files\n"
        "start = genlib.runs.read_checkpoint(run_dir, model)\n"
        "again = fit(model, data, TrainConfig(steps=4, batch_size=8, device='cpu'), start=start,\n"
        "            writer=genlib.runs.RunWriter(run_dir, info))\n"
        "assert again.status == 'finished' and again.step == 4, again.error\n"
        "assert [r['step'] for r in again.history] == [2, 4], again.history\n")
    result = run_blocked(code)
    assert result.returncode == 0, result.stderr[-3000:]


def test_import_genlib_is_cheap_and_lists_its_api():
    """`import genlib` loads no submodule with weight; every public name still resolves."""
    code = ("import sys, genlib\n"
            "print(sorted(m for m in sys.modules if m.startswith('genlib.')))\n"
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.split("\n")[:2] == ["['genlib._lazy', 'genlib._version']", "False"], \
        result.stdout + result.stderr
    import genlib
    import genlib.data
    import genlib.forecast

    for package in (genlib, genlib.data, genlib.forecast):
        assert set(package.__all__) <= set(dir(package))
        assert set(package.__all__) == {*package._API} | ({"__version__"} if package is genlib else set())
        for name in package.__all__:
            assert getattr(package, name) is not None, name
    from genlib import load_builtin, train_model  # noqa: F401 - the documented spellings work
    assert genlib.pipeline.train_model is train_model and genlib.data.series.load_series is genlib.load_series
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        genlib.nonsense  # noqa: B018


def test_help_and_the_model_list_do_not_load_the_forecasters():
    """`python -m genlib --help` and the registry's list of forecasters load neither statsmodels
    nor a model: the forecasting package imports its names on first use."""
    code = ("import sys, contextlib, io\n"
            "from genlib.cli import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['--help'])\n"
            "from genlib.forecast import list_models\n"
            "assert 'mstl' in [m.name for m in list_models()]\n"
            "print(sorted(m for m in sys.modules if m.startswith(('statsmodels', 'genlib.forecast.'))))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == ("['genlib.forecast.backtest', 'genlib.forecast.base', "
                                     "'genlib.forecast.metrics', 'genlib.forecast.registry']"), result.stdout
    module = importlib.import_module("genlib.forecast.backtest")   # the function keeps its name
    from genlib.forecast import backtest
    assert callable(backtest) and backtest is module.backtest
