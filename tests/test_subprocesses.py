"""Worker processes never run the caller's main script (genlib/subprocesses.py): under Streamlit
that script is a page of the app, and after an AppTest it is a script that fails on its own."""
import concurrent.futures as cf
import math
import sys
import types

import pytest

from genlib import subprocesses


@pytest.fixture
def hostile_main(tmp_path, monkeypatch):
    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('the main script ran in a worker')\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)


def test_a_pool_works_when_the_main_script_must_not_run(hostile_main):
    with cf.ProcessPoolExecutor(2, mp_context=subprocesses.context()) as pool:
        assert list(pool.map(math.sqrt, [4.0, 9.0])) == [2.0, 3.0]


def test_the_plain_spawn_context_would_have_run_it(hostile_main):
    """The failure the context prevents, reproduced: this test fails if Python stops doing it."""
    import multiprocessing as mp

    with pytest.raises(cf.process.BrokenProcessPool):
        with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
            pool.submit(math.sqrt, 4.0).result(timeout=120)
