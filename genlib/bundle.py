"""Bundles: a trained run as one versioned ZIP file, to share a model and to open a shared one safely.

    from genlib.bundle import load_bundle, write_bundle
    write_bundle("runs/2026-11-28T150102-gan-digits", "my-gan.zip", public=True)
    run = load_bundle("my-gan.zip")              # opened once into a cache, then reused
    images = sample_images(run.model, 16, seed=0)   # the same images as from the run folder

    my-gan.zip
        manifest.json          format, genlib version, created, family, steps, and each file's
                               name, size and sha256
        config.json, model.safetensors, metrics.csv, samples.png, card.json   (as in the run)
        optimizer.safetensors  only with include_optimizer=True: a bundle without it samples but
                               cannot be resumed

Sharing is an explicit act that makes one file. `public=True` (the app's download on a hosted
server) rewrites the card to what a stranger may see: family, steps, preset, device, time and final
metrics; the data's fingerprint, count and shape; the data's name only when it is a built-in
dataset; the health lines that carry only counts and sizes (never a skipped file, a file or class
name); class names only when the model is conditional (it needs them to label what it draws — the
folder names of a private upload are dropped otherwise); never the free-text error.

Opening treats the file as hostile: nothing is unpacked with `extractall` and nothing is unpickled.
A bundle is refused, with a sentence saying what to do, when it is not a ZIP, its manifest names
another format, a member's name has a path in it, a member is unknown, doubled, encrypted or
compressed in another way, it has more than 64 members (`MAX_MEMBERS`), its declared sizes pass
`max_bundle_bytes()` (2 GiB; 512 MiB on a hosted server), a large member is compressed more than
`MAX_RATIO` times (a zip bomb), a member's size or sha256 differs from the manifest, or the files
do not load as a genlib run (`genlib.runs.load_run`, safetensors only, on the CPU).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from ._version import __version__
from .data.builtin import DATASETS
from .errors import RunError
from .runs import Run, is_being_written, load_run, runs_root
from .settings import hosted_mode

__all__ = ["FORMAT", "write_bundle", "open_bundle", "load_bundle", "read_manifest", "is_bundle",
           "max_bundle_bytes"]

FORMAT = "genlib-bundle/1"
MANIFEST = "manifest.json"
OPTIMIZER = "optimizer.safetensors"
MEMBERS = (MANIFEST, "config.json", "model.safetensors", OPTIMIZER, "metrics.csv", "samples.png",
           "card.json")                       # every name a bundle may hold, in the order written
REQUIRED = (MANIFEST, "config.json", "model.safetensors")
MAX_MEMBERS = 64                              # refused before any name is looked at (a bundle has 7)
MAX_BYTES = 2 << 30                           # declared size of all members together
HOSTED_MAX_BYTES = 512 << 20                  # the same on a hosted server (GENLIB_HOSTED=1)
MAX_RATIO = 100                               # uncompressed / compressed, for members over RATIO_FROM
RATIO_FROM = 1 << 20                          # smaller members cannot hurt, whatever their ratio
ZIP_SLACK = 1 << 20                           # the ZIP's own headers on top of its members
MEMBER_MAX_BYTES = {MANIFEST: 1 << 20, "config.json": 1 << 20, "card.json": 1 << 20,
                    "metrics.csv": 64 << 20, "samples.png": 64 << 20}   # the rest: max_bundle_bytes()
_STORED = {"model.safetensors", OPTIMIZER, "samples.png"}   # already dense: compressing gains nothing
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)             # fixed member times: the same run gives the same members
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ASK = "Ask whoever shared it for a new bundle made by genlib (`python -m genlib bundle`)."

# Health lines a public card keeps: they carry counts, sizes and pixel scales, never a name.
_PUBLIC_HEALTH = re.compile(
    r"Used [\d,]+ images\.$"
    r"|Repaired: (Scaled pixel values|Resized|Cropped|Composited|Turned|Used the first frame|Stored|"
    r"Converted|Repeated the gray channel|Read each row|Read the one-hot)"
    r"|Note: (Only [\d,]+ images?:|Pixel values run|The brightest value|[\d,]+ images? (is|are) an exact)")


def max_bundle_bytes() -> int:
    """The largest bundle (its members' declared sizes together) this process opens."""
    return HOSTED_MAX_BYTES if hosted_mode() else MAX_BYTES


# ---- writing ---------------------------------------------------------------------------------
def write_bundle(run_dir: str | Path, out: str | Path | None = None, *, include_optimizer: bool = False,
                 public: bool = False) -> bytes | Path:
    """The run in `run_dir` as one bundle: written to `out` (atomically) and its path returned, or
    returned as bytes when there is no `out`. See the module docstring for what `public` keeps.

        >>> data = write_bundle(run_dir)                                     # doctest: +SKIP
        >>> write_bundle(run_dir, "gan.zip", include_optimizer=True)         # doctest: +SKIP
        PosixPath('gan.zip')
    """
    run_dir = Path(run_dir)
    if is_being_written(run_dir):           # weights and optimizer could come from two checkpoints
        raise RunError(f"{run_dir.name} is being trained right now; make the bundle when it has "
                       f"stopped or finished.")
    run = load_run(run_dir)                 # refuses a folder that is not a whole genlib run
    files: dict[str, bytes] = {}
    for name in MEMBERS[1:]:
        path = run_dir / name
        if name == OPTIMIZER and not include_optimizer:
            continue
        if not path.is_file():
            if name == OPTIMIZER:
                raise RunError(f"{run_dir} has no {OPTIMIZER}, so it cannot be bundled for resuming; "
                               f"bundle it without the optimizer (it can still be sampled).")
            continue
        files[name] = path.read_bytes()
    if public and "card.json" in files:
        files["card.json"] = json.dumps(_public_card(run.card, run.model.capabilities.conditional),
                                        indent=2).encode()
    total = sum(map(len, files.values()))
    if total > MAX_BYTES:
        raise RunError(f"{run_dir} holds {total / 2**30:.1f} GiB, more than a bundle may ({MAX_BYTES >> 30} "
                       f"GiB); share the run folder itself instead.")
    manifest = {
        "format": FORMAT, "genlib_version": __version__,
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "family": run.family, "steps": int(run.card.get("steps", run.config.get("step", 0))),
        "resumable": OPTIMIZER in files, "public": bool(public),
        **({} if public else {"run": run.name}),     # a run's folder name can say what it saw
        "files": [{"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                  for n, b in files.items()],
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in [(MANIFEST, json.dumps(manifest, indent=2).encode()), *files.items()]:
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name in _STORED else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    if out is None:
        return buf.getvalue()
    out = Path(out)
    if out.is_dir():
        raise RunError(f"{out} is a folder; give the bundle a file name, such as model.zip.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _public_card(card: dict, conditional: bool) -> dict:
    """What a stranger may read of a card (allow-listed, so a new private field stays private)."""
    keep = ("format", "genlib_version", "family", "created", "updated", "status", "steps", "total_steps",
            "device", "duration_seconds", "final_metrics", "preset", "error_kind")
    out = {k: card[k] for k in keep if k in card}
    data = card.get("data") or (card.get("info") or {}).get("data")
    if isinstance(data, dict):
        name = data.get("name")
        out["data"] = {
            "name": name if name in DATASETS else "images",     # an upload's file name is private
            "fingerprint": data.get("fingerprint"), "count": data.get("count"),
            "shape": data.get("shape"),
            "class_names": list(data.get("class_names") or []) if conditional else [],
            "health": [line for line in data.get("health") or []
                       if isinstance(line, str) and _PUBLIC_HEALTH.match(line)],
        }
    # resuming copies info["data"] over the card's data, so info must be as clean as the card
    out["info"] = {k: v for k, v in (("family", out.get("family")), ("preset", out.get("preset")),
                                      ("data", out.get("data"))) if v is not None}
    return out


# ---- opening ---------------------------------------------------------------------------------
def open_bundle(source, dest: str | Path, *, resumable: bool = False) -> Path:
    """Check the bundle `source` (a path, bytes or a binary file object, read from its start) and
    unpack it into the new folder `dest` (which must not exist, or be empty); returns `dest`.
    With `resumable=True` a bundle without the optimizer is refused. Nothing is left behind when a
    check fails.

        >>> run = load_run(open_bundle("gan.zip", "runs/shared-gan"))        # doctest: +SKIP
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise RunError(f"{dest} already exists and is not empty; open the bundle into a new folder.")
    with _opened(source) as (f, label):
        return _unpack(f, label, dest, resumable)


CACHE_KEEP = 8      # bundles kept unpacked in a cache folder; the least recently used go first


def load_bundle(source, cache_dir: str | Path | None = None) -> Run:
    """The run in the bundle `source`, loaded on the CPU. It is unpacked once into
    `cache_dir/<its sha256>` (default: the runs folder's `.bundles`), and reused from there; the
    cache keeps the `CACHE_KEEP` most recently used bundles.

        >>> images = sample_images(load_bundle("gan.zip").model, 16, seed=0)   # doctest: +SKIP
    """
    cache = Path(cache_dir) if cache_dir is not None else runs_root() / ".bundles"
    with _opened(source) as (f, label):
        digest = hashlib.sha256()
        while chunk := f.read(1 << 20):
            digest.update(chunk)
        f.seek(0)
        dest = cache / digest.hexdigest()
        if dest.is_dir():
            try:
                run = load_run(dest)
                os.utime(dest)                   # recently used: pruned last
                return run
            except RunError:                     # a damaged cache entry: unpack it again
                shutil.rmtree(dest, ignore_errors=True)
        try:
            _unpack(f, label, dest, resumable=False)
        except RunError:
            if not dest.is_dir():                # else another process unpacked it meanwhile
                raise
    _prune_cache(cache, keep=dest)
    return load_run(dest)


def _prune_cache(cache: Path, keep: Path) -> None:
    """Delete the least recently used unpacked bundles beyond `CACHE_KEEP` (never `keep`)."""
    entries = [d for d in cache.iterdir() if d.is_dir() and not d.is_symlink()
               and re.fullmatch(r"[0-9a-f]{64}", d.name)]
    entries.sort(key=lambda d: d.stat().st_mtime, reverse=True)
    for old in [d for d in entries if d != keep][max(0, CACHE_KEEP - 1):]:
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(source) -> dict:
    """The checked manifest of the bundle `source` (names, sizes, format; checksums are checked
    when it is opened), without unpacking anything."""
    with _opened(source) as (f, label), _zip(f, label) as zf:
        return _check(zf, label)[1]


def is_bundle(path: str | Path) -> bool:
    """True when `path` is a file whose ZIP manifest says it is a genlib bundle (never raises)."""
    try:
        with zipfile.ZipFile(Path(path)) as zf:
            info = zf.getinfo(MANIFEST)
            if info.file_size > MEMBER_MAX_BYTES[MANIFEST]:
                return False
            manifest = json.loads(zf.read(info))
    except (OSError, ValueError, KeyError, EOFError, RuntimeError, NotImplementedError,
            zipfile.BadZipFile, zlib.error):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == FORMAT


@contextlib.contextmanager
def _opened(source):
    """The bundle as a seekable binary file at its start, and the words that name it in errors."""
    cap = max_bundle_bytes() + ZIP_SLACK
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise RunError(f"There is no bundle file at {path}. Check the path (a bundle is one .zip file).")
        label = _label(path.name)
        if path.stat().st_size > cap:
            raise _too_big(label)
        with open(path, "rb") as f:
            yield f, label
        return
    if isinstance(source, (bytes, bytearray, memoryview)):
        label, size, f = "This bundle", len(source), io.BytesIO(bytes(source))
    elif hasattr(source, "read"):
        label = _label(Path(str(getattr(source, "name", "") or "")).name)   # an upload's own name
        if getattr(source, "seekable", lambda: False)():
            f, size = source, source.seek(0, io.SEEK_END)
            source.seek(0)
        else:                                    # a stream: read at most one byte past the cap
            data = source.read(cap + 1)
            f, size = io.BytesIO(data), len(data)
    else:
        raise TypeError(f"a bundle is a path, bytes or a binary file object, not {type(source).__name__}")
    if size > cap:
        raise _too_big(label)
    yield f, label


def _label(name: str) -> str:
    """A file name fit to start an error sentence (an uploaded name may hold anything)."""
    return "".join(c for c in name if c.isprintable())[:80] or "This bundle"


def _too_big(label: str) -> RunError:
    where = " on this shared server" if hosted_mode() else ""
    return RunError(f"{label} is larger than a bundle may be{where} ({max_bundle_bytes() >> 20:,} MiB); "
                    f"it was not opened. Share a smaller model.")


@contextlib.contextmanager
def _zip(f: BinaryIO, label: str):
    try:
        zf = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, NotImplementedError):
        raise RunError(f"{label} is not a genlib bundle: it is not a ZIP file. Choose the .zip file that "
                       f"`python -m genlib bundle` or the Runs page's download made.") from None
    with zf:
        yield zf


def _shown(name: str) -> str:
    return ascii(name)[:80]        # a hostile name can hold newlines: errors stay one line


def _check(zf: zipfile.ZipFile, label: str) -> tuple[dict[str, zipfile.ZipInfo], dict]:
    """Every member's name, size and compression, then the manifest against them."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise RunError(f"{label} holds {len(infos):,} files and a genlib bundle at most {len(MEMBERS)}, so it "
                       f"was not opened. {_ASK}")
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        for raw in (name, info.orig_filename):
            if (not raw or raw != raw.strip() or any(c in raw for c in "/\\:\x00") or raw in (".", "..")
                    or not raw.isprintable()):
                raise RunError(f"{label} holds a file named {_shown(raw)}, with a folder or path in its "
                               f"name; a genlib bundle holds plain file names only, so it was not opened.")
        if name not in MEMBERS:
            raise RunError(f"{label} holds {_shown(name)}, which is no part of a genlib bundle, so it was "
                           f"not opened. {_ASK}")
        if name in members:
            raise RunError(f"{label} holds {name} twice, so it was not opened. {_ASK}")
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise RunError(f"{label} holds {name} encrypted or compressed in a way genlib never writes, "
                           f"so it was not opened. {_ASK}")
        if info.file_size > MEMBER_MAX_BYTES.get(name, max_bundle_bytes()):
            raise RunError(f"{label} says its {name} holds {info.file_size:,} bytes, more than genlib ever "
                           f"writes there, so it was not opened.")
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise RunError(f"{label} was not opened: its {name} unpacks to "
                           f"{info.file_size / max(info.compress_size, 1):,.0f} times its packed size (a ZIP "
                           f"bomb?), and genlib unpacks at most {MAX_RATIO} times.")
        total += info.file_size
        members[name] = info
    if total > max_bundle_bytes():
        raise _too_big(label)
    missing = [n for n in REQUIRED if n not in members]
    if missing:
        raise RunError(f"{label} is not a genlib bundle: it has no {missing[0]}. {_ASK}")
    try:
        manifest = json.loads(_read(zf, members[MANIFEST], label)[0])
    except (ValueError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict):
        raise RunError(f"{label} has a damaged manifest.json, so it was not opened. {_ASK}")
    if manifest.get("format") != FORMAT:
        raise RunError(f"{label} is a bundle of another format ({_shown(str(manifest.get('format')))}) and "
                       f"genlib {__version__} opens {FORMAT}. Open it with the genlib that made it, or ask "
                       f"for a bundle made by this version.")
    listed = manifest.get("files")
    ok = (isinstance(listed, list) and isinstance(manifest.get("family"), str)
          and type(manifest.get("steps", 0)) is int
          and all(isinstance(e, dict) and isinstance(e.get("name"), str) and type(e.get("size")) is int
                  and isinstance(e.get("sha256"), str) and _SHA256.fullmatch(e["sha256"]) for e in listed))
    if not ok:
        raise RunError(f"{label} has a manifest.json that does not list its files as genlib writes them, "
                       f"so it was not opened. {_ASK}")
    names = [e["name"] for e in listed]
    if len(set(names)) != len(names) or set(names) != set(members) - {MANIFEST}:
        raise RunError(f"{label} holds other files than its manifest lists, so it was not opened. {_ASK}")
    for e in listed:
        if e["size"] != members[e["name"]].file_size:
            raise RunError(f"{label} was changed or damaged after it was made ({e['name']} is not the size "
                           f"its manifest says), so it was not opened. {_ASK}")
    return members, manifest


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, sink=None) -> tuple[bytes, str]:
    """A member's bytes (or, with `sink`, its bytes handed on chunk by chunk) and their sha256,
    never more than its declared size."""
    digest, parts, n = hashlib.sha256(), [], 0
    try:
        with zf.open(info) as member:
            while chunk := member.read(1 << 20):
                n += len(chunk)
                if n > info.file_size:
                    raise RunError(f"{label} was changed or damaged after it was made ({info.filename} "
                                   f"holds more than its declared size), so it was not opened. {_ASK}")
                digest.update(chunk)
                if sink:
                    sink(chunk)
                else:
                    parts.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise RunError(f"{label} is damaged ({info.filename}: {' '.join(str(exc).split())[:120]}), so it "
                       f"was not opened. {_ASK}") from None
    return b"".join(parts), digest.hexdigest()


def _unpack(f: BinaryIO, label: str, dest: Path, resumable: bool) -> Path:
    """Check, write each member into a temporary folder beside `dest`, load it, rename it to `dest`."""
    with _zip(f, label) as zf:
        members, manifest = _check(zf, label)
        if resumable and OPTIMIZER not in members:
            raise RunError(f"{label} has no optimizer state, so training cannot go on from it (it can "
                           f"still be sampled). Ask for a bundle made with --with-optimizer, or train a "
                           f"new model.")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
        try:
            # config.json last: a folder listing (list_runs) never sees a half-written run
            for entry in sorted(manifest["files"], key=lambda e: e["name"] == "config.json"):
                with open(tmp / entry["name"], "wb") as out:
                    _, sha = _read(zf, members[entry["name"]], label, sink=out.write)
                if sha != entry["sha256"]:
                    raise RunError(f"{label} was changed or damaged after it was made ({entry['name']} does "
                                   f"not match its checksum), so it was not opened. {_ASK}")
            try:
                run = load_run(tmp)
            except RunError as exc:
                # load_run's own advice (train again…) is for run folders: keep only what is wrong
                reason = re.split(r"; |\. ", str(exc).replace(f"{tmp}{os.sep}", "").replace(str(tmp), "it"))[0]
                raise RunError(f"{label} holds a model that does not load ({' '.join(reason.split())[:200]}), "
                               f"so it was not opened. {_ASK}") from None
            if run.family != manifest["family"]:
                raise RunError(f"{label} says it holds a {_shown(manifest['family'])} but holds a "
                               f"{run.family}, so it was not opened. {_ASK}")
            try:
                if dest.exists():
                    dest.rmdir()                  # the empty folder the caller reserved
                os.rename(tmp, dest)
            except OSError:
                raise RunError(f"{dest} appeared while the bundle was opened; open it into a new "
                               f"folder.") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dest
