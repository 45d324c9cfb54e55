"""Visitors of a hosted server: signed tokens, the secret on disk, workspaces and their expiry."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

from genlib import workspace as ws_mod
from genlib.errors import GenlibError
from genlib.workspace import (Workspace, check_visitor_id, cleanup_expired, data_root, is_being_written,
                              issue_token, retention_hours, server_secret, start_cleaner,
                              visitor_from_token)

SECRET = b"k" * 32
HOUR = 3600


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("GENLIB_SECRET", "GENLIB_DATA_DIR", "GENLIB_RETENTION_HOURS"):
        monkeypatch.delenv(name, raising=False)


# ---- tokens ----------------------------------------------------------------------------------
def test_token_round_trip():
    visitor_id, token = issue_token(SECRET)
    assert len(visitor_id) == 32 and check_visitor_id(visitor_id) == visitor_id
    assert token.startswith(visitor_id + ".")
    assert urllib.parse.quote(token, safe="") == token            # safe in a URL or a cookie as is
    assert visitor_from_token(token, SECRET) == visitor_id
    assert len({issue_token(SECRET)[0] for _ in range(50)}) == 50  # random, not counted


def test_a_tampered_token_is_refused():
    visitor_id, token = issue_token(SECRET)
    other_id, other_token = issue_token(SECRET)
    sig = token.split(".")[1]
    flipped = "A" if sig[0] != "A" else "B"
    assert visitor_from_token(f"{visitor_id}.{flipped}{sig[1:]}", SECRET) is None
    chosen = "0" * 32                                           # a visitor id the client picked
    assert visitor_from_token(f"{chosen}.{sig}", SECRET) is None
    assert visitor_from_token(f"{other_id}.{sig}", SECRET) is None  # someone else's id, my signature
    assert visitor_from_token(other_token, SECRET) == other_id


def test_a_token_from_another_secret_is_refused():
    _, token = issue_token(SECRET)
    assert visitor_from_token(token, b"x" * 32) is None


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1], lambda t: t + "A", lambda t: t + "=", lambda t: t[1:],
    lambda t: t.split(".")[0], lambda t: t.split(".")[1], lambda t: t.replace(".", ":"),
    lambda t: t.upper(), lambda t: t.replace(".", ".."), lambda t: " " + t[1:],
    lambda t: t[:-1] + "\n", lambda t: t[:-1] + "é", lambda t: t.encode(),
])
def test_wrong_lengths_and_shapes_are_refused(mangle):
    _, token = issue_token(SECRET)
    assert visitor_from_token(mangle(token), SECRET) is None


@pytest.mark.parametrize("garbage", [None, "", ".", 12, "x" * 76, "." * 76, "a" * 32 + "." + "b" * 43,
                                     ["a"], "../../etc/passwd"])
def test_garbage_is_refused(garbage):
    assert visitor_from_token(garbage, SECRET) is None


def test_a_weak_secret_is_a_programming_error():
    with pytest.raises(TypeError):
        issue_token(b"short")
    with pytest.raises(TypeError):
        visitor_from_token(issue_token(SECRET)[1], "k" * 32)  # text, not bytes


# ---- the secret --------------------------------------------------------------------------------
def test_the_secret_file_is_created_private_and_reused(tmp_path):
    root = tmp_path / "data"
    secret = server_secret(root)
    path = root / ".secret"
    assert len(secret) == 32 and path.read_bytes() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in root.iterdir()) == [".secret"]   # no temporary file left
    _, token = issue_token(secret)
    assert server_secret(root) == secret                            # after a restart …
    assert visitor_from_token(token, server_secret(root)) is not None  # … tokens still hold
    assert server_secret(tmp_path / "other") != secret


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    barrier, got = threading.Barrier(8), []

    def start():
        barrier.wait()
        got.append(server_secret(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and len(set(got)) == 1 and (tmp_path / ".secret").read_bytes() == got[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".secret"]


def test_the_secret_from_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLIB_SECRET", "a-long-enough-server-secret")
    assert server_secret(tmp_path) == b"a-long-enough-server-secret"
    assert not (tmp_path / ".secret").exists()
    monkeypatch.setenv("GENLIB_SECRET", "short")
    with pytest.raises(GenlibError, match="too short"):
        server_secret(tmp_path)


def test_a_damaged_secret_file_is_reported(tmp_path):
    (tmp_path / ".secret").write_bytes(b"abc")
    with pytest.raises(GenlibError, match="damaged"):
        server_secret(tmp_path)


# ---- workspaces ------------------------------------------------------------------------------
def test_workspace_paths(tmp_path):
    visitor_id, _ = issue_token(SECRET)
    ws = Workspace(tmp_path, visitor_id)
    assert ws.dir == tmp_path / "visitors" / visitor_id
    assert ws.runs_dir == ws.dir / "runs" and ws.uploads_dir == ws.dir / "uploads"
    assert ws.last_seen is None and not ws.dir.exists()            # nothing is made until a visit
    assert ws.touch() is ws
    assert ws.runs_dir.is_dir() and ws.uploads_dir.is_dir()
    os.utime(ws.dir / ".seen", (time.time() - HOUR, time.time() - HOUR))
    before = ws.last_seen
    ws.touch()
    assert ws.last_seen > before + HOUR / 2


@pytest.mark.parametrize("bad", ["../" + "0" * 29, "0" * 31, "0" * 33, "A" * 32, "g" * 32, "0" * 32 + "\n",
                                 "", None, 123, "0" * 16 + "/" + "0" * 15, "０" * 32])
def test_workspace_refuses_what_is_not_a_visitor_id(tmp_path, bad):
    with pytest.raises(GenlibError, match="not a visitor id"):
        Workspace(tmp_path, bad)
    assert not (tmp_path / "visitors").exists()


def test_data_root(monkeypatch, tmp_path):
    monkeypatch.delenv("GENLIB_RUNS_DIR")
    assert str(data_root()) == "genlib-data"
    monkeypatch.setenv("GENLIB_RUNS_DIR", str(tmp_path / "srv" / "runs"))
    assert data_root() == tmp_path / "srv"
    monkeypatch.setenv("GENLIB_DATA_DIR", str(tmp_path / "state"))
    assert data_root() == tmp_path / "state"


def test_retention_hours(monkeypatch):
    assert retention_hours() == 24
    monkeypatch.setenv("GENLIB_RETENTION_HOURS", "2.5")
    assert retention_hours() == 2.5
    for bad in ("0", "-1", "soon", "nan", "inf"):
        monkeypatch.setenv("GENLIB_RETENTION_HOURS", bad)
        with pytest.raises(GenlibError, match="GENLIB_RETENTION_HOURS"):
            retention_hours()


# ---- expiry ----------------------------------------------------------------------------------
def _visitor(root, seen_hours_ago: float) -> Workspace:
    ws = Workspace(root, issue_token(SECRET)[0]).touch()
    (ws.runs_dir / "2026-01-01T000000-vae-digits").mkdir()
    (ws.runs_dir / "2026-01-01T000000-vae-digits" / "config.json").write_text("{}")
    (ws.uploads_dir / "pictures.zip").write_bytes(b"PK")
    when = time.time() - seen_hours_ago * HOUR
    os.utime(ws.dir / ".seen", (when, when))
    return ws


def _marker(ws: Workspace, minutes_ago: float, pid: int | None = None) -> None:
    marker = ws.runs_dir / "2026-01-01T000000-vae-digits" / ".writing"
    marker.write_text(f"{pid}\n" if pid else "")
    when = time.time() - minutes_ago * 60
    os.utime(marker, (when, when))


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    return int(done.stdout)


def test_cleanup_deletes_old_workspaces_and_keeps_the_rest(tmp_path):
    old, older = _visitor(tmp_path, 25), _visitor(tmp_path, 300)
    fresh = _visitor(tmp_path, 23)
    training = _visitor(tmp_path, 48)
    _marker(training, minutes_ago=1)                  # a run of it is being written right now
    long_training = _visitor(tmp_path, 48)
    _marker(long_training, minutes_ago=60, pid=os.getpid())   # an hour in, by a living process
    crashed = _visitor(tmp_path, 48)
    _marker(crashed, minutes_ago=30, pid=_dead_pid())  # a marker a crash left behind: no protection
    reused = _visitor(tmp_path, 48)
    _marker(reused, minutes_ago=25 * 60, pid=os.getpid())  # older than the retention: a reused id
    stranger = tmp_path / "visitors" / "notes"        # not a workspace: never touched
    stranger.mkdir()
    os.utime(stranger, (0, 0))

    deleted = cleanup_expired(tmp_path, max_age_hours=24)

    assert sorted(deleted) == sorted([old.dir, older.dir, crashed.dir, reused.dir])
    assert not any(w.dir.exists() for w in (old, older, crashed, reused))
    assert all(w.runs_dir.is_dir() for w in (fresh, training, long_training)) and stranger.is_dir()
    assert sorted(p.name for p in (tmp_path / "visitors").iterdir()) == sorted(
        [fresh.visitor_id, training.visitor_id, long_training.visitor_id, "notes"])  # nothing half-deleted
    assert cleanup_expired(tmp_path, max_age_hours=24) == []
    # with one hour of retention, an hour-old marker no longer protects, even with a living process
    assert sorted(cleanup_expired(tmp_path, max_age_hours=1)) == sorted([fresh.dir, long_training.dir])
    assert training.runs_dir.is_dir()
    assert cleanup_expired(tmp_path / "nowhere", max_age_hours=1) == []


def test_the_retention_comes_from_the_environment(tmp_path, monkeypatch):
    a, b = _visitor(tmp_path, 3), _visitor(tmp_path, 1)
    assert cleanup_expired(tmp_path) == []                          # 24 hours by default
    monkeypatch.setenv("GENLIB_RETENTION_HOURS", "2")
    assert cleanup_expired(tmp_path) == [a.dir] and b.dir.is_dir()
    with pytest.raises(GenlibError, match="positive"):
        cleanup_expired(tmp_path, max_age_hours=0)


def test_a_real_training_run_is_protected_by_its_marker(tmp_path):
    from genlib import runs
    from genlib.pipeline import train_model
    from tests.test_train import Tiny
    ws = Workspace(tmp_path, issue_token(SECRET)[0]).touch()
    run_dir = train_model("vae", Tiny(), steps=2, device="cpu", out_dir=ws.runs_dir / "run").run_dir
    os.utime(ws.dir / ".seen", (0, 0))
    with runs.writing(run_dir):                      # the marker genlib.runs puts in while training
        assert is_being_written(run_dir) and cleanup_expired(tmp_path, max_age_hours=1) == []
        half_an_hour_ago = time.time() - 1800
        os.utime(run_dir / ".writing", (half_an_hour_ago, half_an_hour_ago))
        assert is_being_written(run_dir) and cleanup_expired(tmp_path, max_age_hours=1) == []
    assert not is_being_written(run_dir)
    assert cleanup_expired(tmp_path, max_age_hours=1) == [ws.dir] and not ws.dir.exists()


@pytest.fixture
def no_cleaner():
    """No cleaner thread before the test (an app test in this process may have started the
    process's one cleaner for its own folder) and none after it."""
    def stop():
        if ws_mod._cleaner is not None:
            ws_mod._cleaner.stop()
            ws_mod._cleaner = None

    stop()
    yield
    stop()


def _wait_for(condition, seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_cleaner_thread_runs_and_is_started_once(tmp_path, no_cleaner):
    old = _visitor(tmp_path, 5)
    cleaner = start_cleaner(tmp_path, every_seconds=0.05, max_age_hours=1)
    assert cleaner.daemon and cleaner.is_alive()
    assert _wait_for(lambda: not old.dir.exists())
    assert start_cleaner(tmp_path, every_seconds=99) is cleaner      # one per process
    later = _visitor(tmp_path, 5)                                   # expires after the first pass
    assert _wait_for(lambda: cleaner.deleted == 2 and cleaner.passes >= 2) and not later.dir.exists()
    cleaner.stop()
    assert not cleaner.is_alive()
    again = start_cleaner(tmp_path, every_seconds=60, max_age_hours=1)
    assert again is not cleaner and again.is_alive()


def test_the_cleaner_refuses_bad_settings(tmp_path, no_cleaner):
    with pytest.raises(GenlibError):
        start_cleaner(tmp_path, every_seconds=0)
    with pytest.raises(GenlibError):
        start_cleaner(tmp_path, every_seconds=1, max_age_hours=-1)
    assert ws_mod._cleaner is None


# ---- what a browser loaded last ---------------------------------------------------------------
A_ID, B_ID = "a" * 32, "b" * 32


def test_the_data_loaded_last_is_remembered_per_kind_and_per_visitor(tmp_path):
    a = Workspace(tmp_path, A_ID)
    kept = a.keep_upload("Umsatz 2024.xlsx", b"PK workbook bytes")
    a.remember_data("series", "upload", "Umsatz 2024.xlsx", {"value_column": ["Nord", "West"], "dayfirst": True},
                    upload=kept)
    a.remember_data("images", "builtin", "digits", {"image_size": 32})
    assert a.last_data() == {
        "series": {"source": "upload", "name": "Umsatz 2024.xlsx", "file": kept.name,
                   "options": {"value_column": ["Nord", "West"], "dayfirst": True}},
        "images": {"source": "builtin", "name": "digits", "options": {"image_size": 32}}}
    assert a.kept_upload(kept.name) == kept
    assert Workspace(tmp_path, B_ID).last_data() == {}               # another visitor: nothing


def test_only_an_upload_in_ones_own_folder_can_be_remembered_or_read_back(tmp_path):
    a, b = Workspace(tmp_path, A_ID), Workspace(tmp_path, B_ID)
    theirs = b.keep_upload("secret.csv", b"date,y\n")
    with pytest.raises(GenlibError, match="own folder"):
        a.remember_data("series", "upload", "secret.csv", upload=theirs)
    a.touch()
    for file in ("../" * 3 + f"visitors/{B_ID}/uploads/{theirs.name}", theirs.name, "/etc/passwd"):
        (a.dir / ws_mod.LAST_DATA_FILE).write_text(
            f'{{"series": {{"source": "upload", "name": "x.csv", "file": "{file}", "options": {{}}}}}}')
        assert a.last_data() == {}, file                              # a forged record names nothing
    assert a.kept_upload("../x") is None and a.kept_upload(theirs.name) is None


@pytest.mark.parametrize("text", [
    "not json", "[1, 2]", '{"videos": {"source": "builtin", "name": "x", "options": {}}}',
    '{"images": {"source": "url", "name": "http://x", "options": {}}}',
    '{"images": {"source": "builtin", "name": "digits", "options": {"image_size": {"a": 1}}}}',
    '{"images": {"source": "builtin", "name": "", "options": {}}}',
])
def test_an_odd_record_is_left_out(tmp_path, text):
    a = Workspace(tmp_path, A_ID).touch()
    (a.dir / ws_mod.LAST_DATA_FILE).write_text(text)
    assert a.last_data() == {}


def test_a_huge_record_is_not_read(tmp_path):
    a = Workspace(tmp_path, A_ID).touch()
    (a.dir / ws_mod.LAST_DATA_FILE).write_text('{"images": {"source": "builtin", "name": "digits", "options": {}}}'
                                               + " " * ws_mod.MAX_LAST_DATA_BYTES)
    assert a.last_data() == {}


def test_a_replaced_upload_is_dropped_only_when_asked_and_unnamed(tmp_path):
    a = Workspace(tmp_path, A_ID)
    first, second = a.keep_upload("a.csv", b"1"), a.keep_upload("b.csv", b"2")
    a.remember_data("series", "upload", "a.csv", upload=first)
    a.remember_data("images", "upload", "a.csv", upload=first)
    a.remember_data("series", "upload", "b.csv", upload=second, drop_replaced=True)
    assert first.exists()                                             # the images still name it
    a.remember_data("images", "builtin", "digits", drop_replaced=True)
    assert not first.exists() and second.exists()
    third = a.keep_upload("c.csv", b"3")
    a.remember_data("series", "upload", "c.csv", upload=third)       # hosted: other tabs may use it
    assert second.exists()
