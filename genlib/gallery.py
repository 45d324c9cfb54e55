"""The gallery: runs that someone chose to share, as read-only copies everyone can open.

Sharing is an explicit act. `publish` copies a run's files into a new folder of the gallery with a
card that says what was trained but nothing about where the data came from (no file names, no
skipped-file lists), never the optimizer, and makes the copies read-only:

    gallery/
        digits-vae-3f9c0a12/       publish(run_dir, gallery, title="Digits VAE", publisher=visitor_id)
            config.json  model.safetensors  metrics.csv  samples.png  card.json
            published.json         title, time, allow_weights, family, source run, publisher

    for entry in list_gallery(gallery):
        run = genlib.runs.load_run(entry.dir)          # a gallery entry is a run
    remove_published(entry.dir, gallery, visitor_id)   # only its publisher may
    preload_gallery("bundles/", gallery)               # run ZIPs shipped with the server

`allow_weights` is the publisher's answer to "may others download the weights?": the weights are
always in the folder (the gallery samples from them); the app offers the download only when True.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import shutil
import time
import unicodedata
import zipfile
from pathlib import Path

from .data.builtin import DATASETS
from .errors import GenlibError, RunError
from .runs import load_run
from .settings import hosted_mode
from .workspace import check_visitor_id, is_being_written

log = logging.getLogger(__name__)

COPIED = ("config.json", "model.safetensors", "metrics.csv", "samples.png")   # never the optimizer
PUBLISHED = "published.json"
MAX_TITLE = 80
_STALE_TMP_SECONDS = 3600


def default_gallery_root() -> Path:
    """Where the app keeps its gallery: `<data_root()>/gallery` (see genlib.workspace)."""
    from .workspace import data_root
    return data_root() / "gallery"


@dataclasses.dataclass(frozen=True)
class GalleryEntry:
    """One published run, as `list_gallery` finds it."""

    dir: Path                        # the entry's folder: genlib.runs.load_run(dir) opens it
    title: str                       # what the publisher called it
    family: str                      # "gan", "vae", "pixelcnn"
    steps: int                       # training steps done
    published: str                   # when, ISO 8601 in UTC: "2026-11-28T15:01:02+00:00"
    allow_weights: bool              # the publisher lets others download model.safetensors
    publisher: str | None = None     # the visitor id that published it; None for preloaded bundles


# ---- publishing --------------------------------------------------------------------------------
def _check_title(title) -> str:
    text = " ".join(str(title).split())
    if not text:
        raise GenlibError("Give the run a title before publishing it.")
    if len(text) > MAX_TITLE:
        raise GenlibError(f"The title is {len(text)} characters long; keep it to {MAX_TITLE}.")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise GenlibError("The title contains control characters; type it again with letters, "
                          "digits and punctuation only.")
    return text


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:40].strip("-") or "run"


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def public_card(card: dict, conditional: bool = False) -> dict:
    """What a gallery shows of a run's card: the model, its training, the count and shape of its
    data and, for a `conditional` model (it needs them to label what it draws), the class names;
    nothing that could name the publisher's files (allow-listed, so a new field stays private).

        >>> public_card({"family": "vae", "steps": 2, "data": {"name": "holiday.zip", "count": 8}})
        {'family': 'vae', 'steps': 2, 'data': {'count': 8}}
    """
    out = {k: card[k] for k in ("format", "genlib_version", "family", "preset", "status", "created",
                                "updated") if isinstance(card.get(k), str)}
    out.update({k: card[k] for k in ("steps", "total_steps", "duration_seconds") if _finite(card.get(k))})
    metrics = card.get("final_metrics")
    if isinstance(metrics, dict):
        out["final_metrics"] = {str(k): v for k, v in metrics.items() if _finite(v)}
    data = card.get("data") if isinstance(card.get("data"), dict) else {}
    public = {}
    if data.get("name") in DATASETS:     # a built-in dataset's name and fingerprint are public
        public.update({k: data[k] for k in ("name", "fingerprint") if isinstance(data.get(k), str)})
    if _finite(data.get("count")):
        public["count"] = data["count"]
    if isinstance(data.get("shape"), list) and all(_finite(s) for s in data["shape"]):
        public["shape"] = data["shape"]
    # an unconditional model has no use for them, and they may be the folder names of an upload
    if conditional and isinstance(data.get("class_names"), list):
        public["class_names"] = [str(c) for c in data["class_names"]]
    if public:
        out["data"] = public
    return out


def _source_name(run_dir: Path, family: str) -> str:
    # genlib names runs "<time>-<family>-<data name>"; the data name may be an upload's file name
    m = re.match(r"(\d{4}-\d\d-\d\dT\d{6})-", run_dir.name)
    return f"{m.group(1)}-{family}" if m else run_dir.name


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, indent=2))


def _clear_stale(gallery_root: Path) -> None:
    """Remove the temporary folders of publications that crashed half-way."""
    for tmp in gallery_root.glob(".tmp-*"):
        try:
            if time.time() - tmp.stat().st_mtime > _STALE_TMP_SECONDS and not tmp.is_symlink():
                shutil.rmtree(tmp)
        except OSError:
            pass


HOSTED_GALLERY_MB = 2048     # a hosted server's gallery, all entries together (GENLIB_GALLERY_MB)


def limit_bytes() -> int | None:
    """How large the gallery may grow through publishing: GENLIB_GALLERY_MB megabytes (0: no
    limit), else `HOSTED_GALLERY_MB` on a hosted server and no limit on one's own machine."""
    text = os.environ.get("GENLIB_GALLERY_MB", "").strip()
    if not text:
        return HOSTED_GALLERY_MB * 2**20 if hosted_mode() else None
    try:
        mb = float(text)
    except ValueError:
        mb = -1.0
    if not mb >= 0:
        raise GenlibError(f"GENLIB_GALLERY_MB must be a number of megabytes, or 0 for no limit "
                          f"(got {text!r}).")
    return int(mb * 2**20) if mb else None


def publish(run_dir: str | Path, gallery_root: str | Path, *, title: str, allow_weights: bool = False,
            publisher: str | None = None, max_per_publisher: int | None = None,
            max_total_bytes: int | None = None) -> Path:
    """Copy the run in `run_dir` into a new read-only folder of the gallery; returns that folder.
    With `max_per_publisher`, a publisher who already has that many entries is refused; with
    `max_total_bytes`, a copy that would make the gallery larger than that is refused.

        >>> entry = publish(result.run_dir, "gallery", title="Digits VAE", publisher=visitor_id)
        >>> load_run(entry).family
        'vae'
    """
    if max_per_publisher is not None and publisher is not None:
        mine = [e for e in list_gallery(gallery_root) if e.publisher == publisher]
        if len(mine) >= max_per_publisher:
            raise GenlibError(f"You have published {len(mine)} models, the most one visitor can "
                              f"publish here; remove one of them first.")
    if max_total_bytes is not None:
        used = _bytes(Path(gallery_root).rglob("*")) if Path(gallery_root).is_dir() else 0
        adding = _bytes(Path(run_dir) / name for name in COPIED)
        if used + adding > max_total_bytes:
            raise GenlibError(f"The gallery of this server is full ({used / 2**20:,.0f} MB of "
                              f"{max_total_bytes / 2**20:,.0f} MB): remove one of your published "
                              f"models, or ask the person who runs this server to make room.")
    return _publish(Path(run_dir), Path(gallery_root), title=title, allow_weights=allow_weights,
                    publisher=publisher)


def _bytes(paths) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file() and not p.is_symlink())


def _publish(run_dir: Path, gallery_root: Path, *, title, allow_weights, publisher, extra=None) -> Path:
    title = _check_title(title)
    if publisher is not None:
        check_visitor_id(publisher)
    if is_being_written(run_dir):
        raise GenlibError(f"{run_dir.name} is still being trained; publish it when it has finished.")
    run = load_run(run_dir)                        # only a run that opens goes into the gallery
    for name in COPIED:
        if (run_dir / name).is_symlink():
            raise RunError(f"{run_dir / name} is a link, not a file that training wrote; "
                           f"this run cannot be published.")
    gallery_root.mkdir(parents=True, exist_ok=True)
    _clear_stale(gallery_root)
    # built under a hidden temporary name and renamed whole: the gallery never shows half an entry
    tmp = gallery_root / f".tmp-{secrets.token_hex(8)}"
    tmp.mkdir()
    try:
        for name in COPIED:
            if (run_dir / name).is_file():
                shutil.copyfile(run_dir / name, tmp / name)
        card = public_card(run.card, conditional=run.model.capabilities.conditional)
        card.setdefault("family", run.family)
        _write_json(tmp / "card.json", card)
        _write_json(tmp / PUBLISHED, {
            "title": title,
            "published": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "allow_weights": bool(allow_weights),
            "family": run.family,
            "steps": int(card.get("steps", run.config.get("step", 0))),
            "source": _source_name(run_dir, run.family),
            "publisher": publisher,
            **(extra or {}),
        })
        for f in tmp.iterdir():
            f.chmod(0o444)
        slug = _slug(title)
        while True:
            entry = gallery_root / f"{slug}-{secrets.token_hex(4)}"
            if not entry.exists():
                break
        os.rename(tmp, entry)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("published %s as %s", run_dir, entry.name)
    return entry


# ---- reading and removing --------------------------------------------------------------------
def _read_published(entry_dir: Path) -> dict | None:
    try:
        meta = json.loads((entry_dir / PUBLISHED).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return meta if isinstance(meta, dict) else None


def _entry(entry_dir: Path, meta: dict) -> GalleryEntry | None:
    try:
        return GalleryEntry(dir=entry_dir, title=str(meta["title"]), family=str(meta["family"]),
                            steps=int(meta.get("steps", 0)), published=str(meta["published"]),
                            allow_weights=meta.get("allow_weights") is True,
                            publisher=meta.get("publisher") if isinstance(meta.get("publisher"), str) else None)
    except (KeyError, TypeError, ValueError):
        return None


def list_gallery(gallery_root: str | Path) -> list[GalleryEntry]:
    """Every readable entry of the gallery, newest first.

        >>> [e.title for e in list_gallery("gallery")]
        ['Digits VAE']
    """
    root = Path(gallery_root)
    if not root.is_dir():
        return []
    out = []
    for d in root.iterdir():
        if d.name.startswith(".") or d.is_symlink() or not d.is_dir():
            continue
        meta = _read_published(d)
        entry = _entry(d, meta) if meta is not None else None
        if entry is not None and (d / "config.json").is_file():
            out.append(entry)
    # the time is to the second; the file's own time orders entries published in the same second
    return sorted(out, key=lambda e: (e.published, _mtime_ns(e.dir / PUBLISHED)), reverse=True)


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def remove_published(entry_dir: str | Path, gallery_root: str | Path, publisher: str | None) -> None:
    """Take an entry out of the gallery; only the visitor who published it may."""
    entry_dir, root = Path(entry_dir), Path(gallery_root)
    if (entry_dir.is_symlink() or entry_dir.name.startswith(".") or not entry_dir.is_dir()
            or entry_dir.resolve().parent != root.resolve()):
        raise GenlibError(f"{entry_dir} is not an entry of the gallery; nothing was removed.")
    meta = _read_published(entry_dir)
    if meta is None:
        raise GenlibError(f"{entry_dir} is not an entry of the gallery; nothing was removed.")
    owner = meta.get("publisher")
    if not (isinstance(owner, str) and isinstance(publisher, str)
            and hmac.compare_digest(owner.encode(), publisher.encode())):
        raise GenlibError("Only the person who published this run can remove it from the gallery.")
    trash = root / f".tmp-removed-{secrets.token_hex(8)}"
    os.rename(entry_dir, trash)
    shutil.rmtree(trash)   # read-only files go too: only their folder needs to be writable
    log.info("removed %s from the gallery", entry_dir.name)


# ---- preloading ------------------------------------------------------------------------------
class Preloaded(list):
    """The entries `preload_gallery` added (a list of folders), and `skipped`: bundle file name →
    why it was not added."""

    def __init__(self):
        super().__init__()
        self.skipped: dict[str, str] = {}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _title_from_file(path: Path) -> str:
    return " ".join(re.sub(r"[_-]+", " ", path.stem).split())[:MAX_TITLE] or "run"


def preload_gallery(bundles_dir: str | Path, gallery_root: str | Path) -> Preloaded:
    """Publish every run bundle (`*.zip`, see genlib.bundle) in `bundles_dir` that is not in the
    gallery yet (by content); bundles that fail validation are skipped and reported.

        >>> added = preload_gallery("bundles", "gallery")
        >>> [p.name for p in added], added.skipped
        (['digits-vae-3f9c0a12'], {'broken.zip': 'not a run bundle: …'})
    """
    from .bundle import open_bundle, read_manifest   # imported here: the gallery works without them

    bundles_dir, root = Path(bundles_dir), Path(gallery_root)
    added = Preloaded()
    if not bundles_dir.is_dir():
        raise GenlibError(f"There is no folder {bundles_dir} to preload the gallery from "
                          f"(GENLIB_GALLERY must name a folder of run bundles).")
    known = {m.get("bundle_sha256") for e in (root.iterdir() if root.is_dir() else [])
             if not e.name.startswith(".") and (m := _read_published(e)) is not None}
    for path in sorted(bundles_dir.glob("*.zip")):
        if not path.is_file():
            continue
        digest = _sha256(path)
        if digest in known:
            continue                                          # preloaded before
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".tmp-bundle-{secrets.token_hex(8)}"
        tmp.mkdir()
        try:
            run_dir = open_bundle(path, tmp / "run")
            allow_weights = read_manifest(path).get("allow_weights") is True
            entry = _publish(Path(run_dir), root, title=_title_from_file(path),
                             allow_weights=allow_weights, publisher=None,
                             extra={"bundle": path.name, "bundle_sha256": digest})
        except (GenlibError, OSError, ValueError, zipfile.BadZipFile) as exc:
            added.skipped[path.name] = str(exc)
            log.warning("skipped the bundle %s: %s", path, exc)
            continue
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        known.add(digest)
        added.append(entry)
    return added
