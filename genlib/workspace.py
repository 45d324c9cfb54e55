"""Visitors of a hosted server: an identity the server issues, a folder of their own, and expiry.

On a shared server (GENLIB_HOSTED=1) every visitor gets a random id that the server signs; the
browser keeps the signed token and hands it back, and a token that does not verify is a stranger
who gets a new id. The id is never chosen by the client and never travels in the address bar.

    data/                                   data_root(): $GENLIB_DATA_DIR
        .secret                             the server's signing key (mode 0600, made on first use)
        visitors/3f9c…e1/                   Workspace(root, visitor_id).dir
            .seen                           last seen (its modification time)
            runs/                           the runs root for everything this visitor trains
            uploads/                        what this visitor uploaded
            last-data.json                  what this browser loaded last (remember_data)

    secret = server_secret(data_root())
    visitor_id, token = issue_token(secret)          # give `token` to the browser
    visitor_from_token(token, secret) == visitor_id  # True; a tampered token gives None
    ws = Workspace(data_root(), visitor_id).touch()
    new_run_dir("vae", "digits", root=ws.runs_dir)
    start_cleaner(data_root())                       # deletes workspaces unseen for 24 hours

Leaf module: imports nothing from genlib but the errors (the runs module may build on it).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import shutil
import sys
import threading
import time
from pathlib import Path

from .errors import GenlibError

log = logging.getLogger(__name__)

VISITOR_ID = re.compile(r"[0-9a-f]{32}")       # 128 random bits, lowercase hex
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{43}")  # HMAC-SHA256, URL-safe base64 without padding
_TOKEN_LENGTH = 32 + 1 + 43
_DOMAIN = b"genlib-visitor/1:"                  # so this key signs visitor ids and nothing else
SECRET_FILE = ".secret"
SECRET_BYTES = 32
MIN_SECRET_BYTES = 16
WRITING_MARKER = ".writing"                     # in a run folder while genlib.runs writes it
WRITING_FRESH_SECONDS = 10 * 60                 # an older marker was left behind by a crash
DEFAULT_RETENTION_HOURS = 24.0
SEEN_FILE = ".seen"
LAST_DATA_FILE = "last-data.json"
MAX_LAST_DATA_BYTES = 16 * 1024                 # a record names data; it never holds it
DATA_KINDS = ("images", "series")
DATA_SOURCES = ("builtin", "sample", "upload")
_KEPT_UPLOAD = re.compile(r"[0-9a-f]{32}(\.[a-z0-9]{1,9})?")   # keep_upload's names, nothing else


# ---- identity --------------------------------------------------------------------------------
def _sign(visitor_id: str, secret: bytes) -> str:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise TypeError(f"the secret must be at least {MIN_SECRET_BYTES} bytes (see server_secret)")
    digest = hmac.new(secret, _DOMAIN + visitor_id.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue_token(secret: bytes) -> tuple[str, str]:
    """A new visitor: (visitor id, the signed token to give the browser).

        >>> visitor_id, token = issue_token(b"s" * 32)
        >>> len(visitor_id), token.startswith(visitor_id + ".")
        (32, True)
    """
    visitor_id = secrets.token_hex(16)
    return visitor_id, f"{visitor_id}.{_sign(visitor_id, secret)}"


def visitor_from_token(token, secret: bytes) -> str | None:
    """The visitor id a token was issued to, or None for anything the server did not sign.

        >>> visitor_id, token = issue_token(b"s" * 32)
        >>> visitor_from_token(token, b"s" * 32) == visitor_id, visitor_from_token(token[:-1] + "A", b"s" * 32)
        (True, None)
    """
    if not isinstance(token, str) or len(token) != _TOKEN_LENGTH or token.count(".") != 1:
        return None
    visitor_id, signature = token.split(".")
    if not VISITOR_ID.fullmatch(visitor_id) or not _SIGNATURE.fullmatch(signature):
        return None
    if not hmac.compare_digest(signature.encode("ascii"), _sign(visitor_id, secret).encode("ascii")):
        return None
    return visitor_id


def server_secret(root: str | Path) -> bytes:
    """The key that signs visitor tokens: $GENLIB_SECRET, else `<root>/.secret` (32 random bytes,
    created with mode 0600 on first use, so tokens stay valid when the server restarts)."""
    env = os.environ.get("GENLIB_SECRET", "")
    if env.strip():
        if len(env.encode()) < MIN_SECRET_BYTES:
            raise GenlibError(f"GENLIB_SECRET is too short ({len(env.encode())} bytes): use at least "
                              f"{MIN_SECRET_BYTES} random characters, for example the output of "
                              f"`python -c 'import secrets; print(secrets.token_urlsafe(32))'`.")
        return env.encode()
    path = Path(root) / SECRET_FILE
    if not path.exists():
        _create_secret(path)
    return _read_secret(path)


def _create_secret(path: Path) -> None:
    # Written in full under a private temporary name, then linked into place: another process
    # sees no file or the whole file, and when two start at once the first link wins.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{SECRET_FILE}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, secrets.token_bytes(SECRET_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def _read_secret(path: Path) -> bytes:
    secret = path.read_bytes()
    if len(secret) != SECRET_BYTES:
        raise GenlibError(f"{path} is damaged ({len(secret)} bytes instead of {SECRET_BYTES}). Delete it "
                          f"and restart: a new key is made, and every visitor gets a new identity.")
    if path.stat().st_mode & 0o077:
        log.warning("%s can be read by other users of this machine; run `chmod 600 %s`", path, path)
    return secret


# ---- workspaces ------------------------------------------------------------------------------
def check_visitor_id(visitor_id) -> str:
    """`visitor_id` itself when it is 32 lowercase hex characters; GenlibError otherwise."""
    if not isinstance(visitor_id, str) or not VISITOR_ID.fullmatch(visitor_id):
        raise GenlibError("That is not a visitor id (32 lowercase hex characters, as issue_token "
                          "makes them); open the app again to get a fresh one.")
    return visitor_id


class Workspace:
    """One visitor's folder, `<root>/visitors/<visitor_id>/`, with `runs/` and `uploads/`.

        >>> ws = Workspace("/tmp/genlib-data", "0123456789abcdef0123456789abcdef").touch()
        >>> ws.runs_dir.name, ws.runs_dir.is_dir()
        ('runs', True)
    """

    def __init__(self, root: str | Path, visitor_id: str):
        self.visitor_id = check_visitor_id(visitor_id)
        self.root = Path(root)
        self.dir = self.root / "visitors" / self.visitor_id

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r}, {self.visitor_id!r})"

    @property
    def runs_dir(self) -> Path:
        """The runs root for everything this visitor trains."""
        return self.dir / "runs"

    @property
    def uploads_dir(self) -> Path:
        return self.dir / "uploads"

    def touch(self) -> Workspace:
        """Record that the visitor was here now (creating the folders on the first visit)."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.uploads_dir.mkdir(exist_ok=True)
        (self.dir / SEEN_FILE).touch()
        return self

    def keep_upload(self, name: str, raw: bytes) -> Path:
        """Keep an upload's bytes in this workspace (not in the server's memory) for reloading it
        with corrected settings; the file is named by its content, so a second upload replaces
        nothing and the visitor's file name never becomes a path."""
        self.touch()
        suffix = "".join(c for c in Path(str(name)).suffix.lower() if c.isalnum() or c == ".")[:10]
        path = self.uploads_dir / f"{hashlib.sha256(raw).hexdigest()[:32]}{suffix}"
        if not path.exists():
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(raw)
            os.replace(tmp, path)
        return path

    @property
    def last_seen(self) -> float | None:
        """When the visitor was last here (seconds since the epoch), None if never."""
        return _last_seen(self.dir) if self.dir.is_dir() else None

    # ---- what this browser loaded last (so that a refresh keeps it) ---------------------------
    def remember_data(self, kind: str, source: str, name: str, options: dict | None = None,
                      upload: str | Path | None = None, drop_replaced: bool = False) -> None:
        """Record what this visitor loaded last of `kind` ("images" or "series"): a built-in
        dataset or sample series by `name`, or an `upload` kept by `keep_upload` (its path), and
        the loader's `options`. Only names and small options are written, never data. With
        `drop_replaced`, the upload this replaces is deleted (when nothing names it any more).

            >>> ws = Workspace("/tmp/genlib-data", "0123456789abcdef0123456789abcdef")
            >>> ws.remember_data("images", "builtin", "digits", {"image_size": 16})
            >>> ws.last_data()["images"]
            {'source': 'builtin', 'name': 'digits', 'options': {'image_size': 16}}
        """
        record = {"source": source, "name": name, "options": dict(options or {})}
        if upload is not None:
            upload = Path(upload)
            if upload.parent.resolve() != self.uploads_dir.resolve():
                raise GenlibError("Only an upload kept in this visitor's own folder can be remembered.")
            record["file"] = upload.name
        checked = _check_data_record(kind, record)
        if checked is None:
            raise GenlibError(f"Cannot remember that {kind} source: {str(record)[:200]}")
        self.touch()
        records = self.last_data()
        before = records.get(kind, {}).get("file")
        records[kind] = checked
        text = json.dumps(records)
        if len(text) > MAX_LAST_DATA_BYTES:
            raise GenlibError("The record of the data loaded last is too large to keep.")
        path = self.dir / LAST_DATA_FILE
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        if drop_replaced and before and before not in {r.get("file") for r in records.values()}:
            (self.uploads_dir / before).unlink(missing_ok=True)

    def last_data(self) -> dict[str, dict]:
        """What `remember_data` recorded, {kind: {"source", "name", "options"[, "file"]}}, each
        record checked: an unreadable or odd one is left out, and a "file" is always the name of
        an upload that is still kept in this workspace (never a path elsewhere)."""
        path = self.dir / LAST_DATA_FILE
        try:
            if path.is_symlink() or path.stat().st_size > MAX_LAST_DATA_BYTES:
                return {}
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(raw, dict):
            return {}
        out = {}
        for kind, record in raw.items():
            checked = _check_data_record(kind, record)
            if checked is not None and ("file" not in checked or self.kept_upload(checked["file"])):
                out[kind] = checked
        return out

    def kept_upload(self, file_name: str) -> Path | None:
        """The path of an upload kept in this workspace by its `keep_upload` name, or None."""
        if not isinstance(file_name, str) or not _KEPT_UPLOAD.fullmatch(file_name):
            return None
        path = self.uploads_dir / file_name
        return path if path.is_file() and not path.is_symlink() else None


def _check_data_record(kind, record) -> dict | None:
    """A last-data record with only the expected fields and plain JSON values, or None."""
    if kind not in DATA_KINDS or not isinstance(record, dict):
        return None
    source, name, options = record.get("source"), record.get("name"), record.get("options", {})
    if source not in DATA_SOURCES or not isinstance(name, str) or not 0 < len(name) <= 200:
        return None
    if not isinstance(options, dict) or len(options) > 20:
        return None
    for key, value in options.items():
        values = value if isinstance(value, list) else [value]
        if not isinstance(key, str) or len(values) > 200 or not all(
                v is None or isinstance(v, (bool, int, float, str)) and len(str(v)) <= 200 for v in values):
            return None
    out = {"source": source, "name": name, "options": dict(options)}
    if source == "upload":
        if not isinstance(record.get("file"), str) or not _KEPT_UPLOAD.fullmatch(record["file"]):
            return None
        out["file"] = record["file"]
    return out


def data_root() -> Path:
    """Where a hosted server keeps its state: $GENLIB_DATA_DIR, else the folder above
    $GENLIB_RUNS_DIR (genlib.runs.runs_root), else ./genlib-data."""
    if os.environ.get("GENLIB_DATA_DIR", "").strip():
        return Path(os.environ["GENLIB_DATA_DIR"]).expanduser()
    if os.environ.get("GENLIB_RUNS_DIR", "").strip():
        # the same rule as genlib.runs.runs_root, read here so that runs may import this module
        return Path(os.environ["GENLIB_RUNS_DIR"]).expanduser().parent
    return Path("genlib-data")


# ---- expiry ----------------------------------------------------------------------------------
def retention_hours() -> float:
    """How long an unseen workspace is kept: $GENLIB_RETENTION_HOURS, else 24."""
    raw = os.environ.get("GENLIB_RETENTION_HOURS", "").strip()
    if not raw:
        return DEFAULT_RETENTION_HOURS
    try:
        hours = float(raw)
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours) or hours <= 0:
        raise GenlibError(f"GENLIB_RETENTION_HOURS must be a positive number of hours (got {raw!r}).")
    return hours


def is_being_written(run_dir: str | Path, now: float | None = None,
                     max_age_seconds: float | None = None) -> bool:
    """True while a training writes `run_dir`: its `.writing` marker is younger than ten minutes,
    or it names a process that is still alive (genlib.runs.writing puts the process id inside) and
    is younger than `max_age_seconds` (a crashed server's id may be given to a new process)."""
    marker = Path(run_dir) / WRITING_MARKER
    try:
        age = (time.time() if now is None else now) - marker.stat().st_mtime
    except OSError:
        return False
    if age < WRITING_FRESH_SECONDS:
        return True
    if max_age_seconds is not None and age >= max_age_seconds:
        return False
    return _names_a_living_process(marker)


def writer_is_alive(run_dir: str | Path) -> bool:
    """True when `run_dir`'s marker names a process that is still alive (age aside)."""
    return _names_a_living_process(Path(run_dir) / WRITING_MARKER)


def _names_a_living_process(marker: Path) -> bool:
    if os.name == "nt":                  # os.kill(pid, 0) would end the process there
        return False
    try:
        pid = int(marker.read_text(errors="replace").split()[0])
    except (OSError, ValueError, IndexError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:              # alive, and someone else's
        return True
    except OSError:
        return False
    return True


def _last_seen(folder: Path) -> float:
    try:
        return (folder / SEEN_FILE).stat().st_mtime
    except OSError:
        return folder.stat().st_mtime


def _remove_tree(path: Path) -> None:
    """shutil.rmtree, also where a folder was made read-only."""
    def retry_writable(func, p, _exc):
        os.chmod(os.path.dirname(p), 0o700)
        if os.path.isdir(p) and not os.path.islink(p):
            os.chmod(p, 0o700)
        func(p)
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry_writable)
    else:
        shutil.rmtree(path, onerror=retry_writable)


def cleanup_expired(root: str | Path, max_age_hours: float | None = None) -> list[Path]:
    """Delete the workspaces under `<root>/visitors/` not seen for `max_age_hours` (default:
    `retention_hours()`), except those with a run being written; returns the folders deleted.

        >>> cleanup_expired("/tmp/genlib-data", max_age_hours=24)
        []
    """
    hours = retention_hours() if max_age_hours is None else float(max_age_hours)
    if not math.isfinite(hours) or hours <= 0:
        raise GenlibError(f"The retention must be a positive number of hours (got {max_age_hours!r}).")
    visitors = Path(root) / "visitors"
    if not visitors.is_dir():
        return []
    now = time.time()
    deleted = []
    for folder in sorted(visitors.iterdir()):
        if folder.name.startswith(".expired-") and folder.is_dir() and not folder.is_symlink():
            try:                             # left behind by a cleaner that was interrupted
                _remove_tree(folder)
            except OSError as exc:
                log.warning("could not delete %s: %s", folder, exc)
            continue
        if not VISITOR_ID.fullmatch(folder.name) or folder.is_symlink() or not folder.is_dir():
            continue                         # not a workspace: never touch it
        try:
            if now - _last_seen(folder) < hours * 3600:
                continue
            if any(is_being_written(marker.parent, now, max_age_seconds=hours * 3600)
                   for marker in folder.glob(f"runs/*/{WRITING_MARKER}")):
                continue
            # moved aside in one step, so nobody ever sees a half-deleted workspace
            trash = visitors / f".expired-{folder.name}-{secrets.token_hex(4)}"
            os.rename(folder, trash)
        except FileNotFoundError:
            continue                         # deleted meanwhile
        try:
            _remove_tree(trash)
        except OSError as exc:               # the next pass deletes what is left of it
            log.warning("could not delete all of %s: %s", trash, exc)
        deleted.append(folder)
        log.info("deleted the workspace %s (not seen for %g hours)", folder.name, hours)
    return deleted


class Cleaner(threading.Thread):
    """The daemon thread `start_cleaner` runs: `cleanup_expired` now and every `every_seconds`."""

    def __init__(self, root: Path, every_seconds: float, max_age_hours: float):
        super().__init__(name="genlib-workspace-cleaner", daemon=True)
        self.root, self.every_seconds, self.max_age_hours = root, every_seconds, max_age_hours
        self.passes = 0                       # cleanups done so far
        self.deleted = 0                      # workspaces deleted so far
        self._halt = threading.Event()

    def run(self) -> None:
        while True:
            try:
                self.deleted += len(cleanup_expired(self.root, self.max_age_hours))
            except Exception:  # a full disk or a permission problem must not end the cleaner
                log.exception("cleaning the workspaces under %s failed", self.root)
            self.passes += 1
            if self._halt.wait(self.every_seconds):
                return

    def stop(self, timeout: float = 10.0) -> None:
        self._halt.set()
        self.join(timeout)


_cleaner: Cleaner | None = None
_cleaner_lock = threading.Lock()


def start_cleaner(root: str | Path, every_seconds: float = 3600.0,
                  max_age_hours: float | None = None) -> Cleaner:
    """Start the process's one cleaner thread (a second call returns the running one).

        >>> cleaner = start_cleaner("/tmp/genlib-data", every_seconds=600)
        >>> start_cleaner("/tmp/genlib-data") is cleaner
        True
    """
    global _cleaner
    with _cleaner_lock:
        if _cleaner is not None and _cleaner.is_alive():
            if Path(root) != _cleaner.root:
                log.warning("the workspace cleaner already runs for %s; %s is not cleaned",
                            _cleaner.root, root)
            return _cleaner
        if not every_seconds > 0:
            raise GenlibError(f"The cleaner needs a positive interval (got {every_seconds!r} seconds).")
        hours = retention_hours() if max_age_hours is None else float(max_age_hours)
        if not math.isfinite(hours) or hours <= 0:
            raise GenlibError(f"The retention must be a positive number of hours (got {max_age_hours!r}).")
        _cleaner = Cleaner(Path(root), float(every_seconds), hours)
        _cleaner.start()
        return _cleaner
