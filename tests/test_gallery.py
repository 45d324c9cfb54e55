"""The gallery: publishing copies a run read-only and without anything private; only its publisher
removes it; bundles shipped with the server are preloaded once."""
from __future__ import annotations

import json
import os
import shutil
import stat
import zipfile

import pytest
import torch

from genlib.bundle import write_bundle

from genlib.errors import GenlibError, RunError
from genlib.gallery import (GalleryEntry, list_gallery, preload_gallery, public_card, publish,
                            remove_published)
from genlib.pipeline import train_model
from genlib.runs import load_run
from genlib.workspace import issue_token
from tests.test_train import Tiny

ALICE = issue_token(b"k" * 32)[0]
BOB = issue_token(b"k" * 32)[0]
PRIVATE = "holiday_photos_of_alice"      # an upload's file name: must never reach the gallery


class Report:
    def lines(self):
        return [f"skipped {PRIVATE}/IMG_0001.jpg: not a picture", "used 16 pictures"]


class Uploaded(Tiny):
    """Tiny, as if it came from a person's upload: its name, skipped files and class names."""

    def __init__(self):
        super().__init__()
        self.name, self.report, self.class_names = f"{PRIVATE}.zip", Report(), ["cat", "dog"]

    def fingerprint(self):
        return "c0ffee" * 10


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A real two-step VAE run, named the way genlib names runs (the data's name in it)."""
    out = tmp_path_factory.mktemp("runs") / f"2026-01-02T030405-vae-{PRIVATE}"
    return train_model("vae", Uploaded(), steps=2, device="cpu", out_dir=out).run_dir


def _texts(folder):
    return {p.name: p.read_text() for p in folder.iterdir() if p.suffix in (".json", ".csv")}


def test_publish_makes_a_read_only_copy_without_the_optimizer(run_dir, tmp_path):
    gallery = tmp_path / "gallery"
    entry = publish(run_dir, gallery, title="  My   first VAE ", publisher=ALICE)

    assert entry.parent == gallery and entry.name.startswith("my-first-vae-")
    assert sorted(p.name for p in entry.iterdir()) == ["card.json", "config.json", "metrics.csv",
                                                       "model.safetensors", "published.json", "samples.png"]
    assert [p.name for p in gallery.iterdir()] == [entry.name]            # no temporary folder left
    for p in entry.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o444, p.name
    for name in ("model.safetensors", "samples.png", "metrics.csv", "config.json"):
        assert (entry / name).read_bytes() == (run_dir / name).read_bytes()
    assert (run_dir / "optimizer.safetensors").exists()                   # the source is untouched

    meta = json.loads((entry / "published.json").read_text())
    assert meta["title"] == "My first VAE" and meta["allow_weights"] is False
    assert meta["family"] == "vae" and meta["publisher"] == ALICE and meta["steps"] == 2
    assert meta["source"] == "2026-01-02T030405-vae" and meta["published"].endswith("+00:00")


def test_the_published_card_keeps_the_model_and_drops_the_files(run_dir, tmp_path):
    entry = publish(run_dir, tmp_path / "gallery", title="t")
    source = json.loads((run_dir / "card.json").read_text())
    assert PRIVATE in json.dumps(source) and source["data"]["health"]     # what there was to hide

    card = json.loads((entry / "card.json").read_text())
    assert card["family"] == "vae" and card["steps"] == 2 and card["preset"] == "quick"
    assert card["data"] == {"count": 16, "shape": [1, 8, 8], "class_names": ["cat", "dog"]}
    assert not {"info", "error", "device", "health"} & set(card)
    assert card["final_metrics"] == source["final_metrics"]
    for name, text in _texts(entry).items():
        assert PRIVATE not in text and "IMG_0001" not in text and "c0ffee" not in text, name
    assert publish(run_dir, tmp_path / "gallery", title="t", publisher=None).name != entry.name


def test_a_built_in_datasets_name_is_kept_and_class_names_only_when_conditional():
    card = {"family": "gan", "data": {"name": "digits", "fingerprint": "abc", "count": 3, "health": ["x"],
                                      "class_names": ["0", "1"]}}
    assert public_card(card) == {"family": "gan", "data": {"name": "digits", "fingerprint": "abc", "count": 3}}
    assert public_card(card, conditional=True)["data"]["class_names"] == ["0", "1"]
    assert public_card({"steps": float("nan"), "final_metrics": {"loss": 1.5, "bad": "x"}}) == {
        "final_metrics": {"loss": 1.5}}


def test_load_run_opens_a_published_entry(run_dir, tmp_path):
    entry = publish(run_dir, tmp_path / "gallery", title="Tiny VAE", allow_weights=True)
    original, copy = load_run(run_dir), load_run(entry)
    assert copy.family == "vae" and copy.card["steps"] == 2 and len(copy.metrics) == len(original.metrics)
    assert copy.samples_png == original.samples_png
    for key, value in original.model.state_dict().items():
        assert torch.equal(copy.model.state_dict()[key], value), key
    assert torch.equal(copy.model.sample(4, seed=1), original.model.sample(4, seed=1))


def test_publish_refuses(run_dir, tmp_path):
    gallery = tmp_path / "gallery"
    for title in ("", "   ", "x" * 81, "bell\x07"):
        with pytest.raises(GenlibError, match="title"):
            publish(run_dir, gallery, title=title)
    with pytest.raises(GenlibError, match="visitor id"):
        publish(run_dir, gallery, title="t", publisher="../../" + "0" * 26)
    (tmp_path / "not-a-run").mkdir()
    with pytest.raises(RunError):
        publish(tmp_path / "not-a-run", gallery, title="t")
    busy = shutil.copytree(run_dir, tmp_path / "busy")
    (busy / ".writing").touch()
    with pytest.raises(GenlibError, match="still being trained"):
        publish(busy, gallery, title="t")
    assert list_gallery(gallery) == []


def test_the_gallery_has_a_size_limit(run_dir, tmp_path, monkeypatch):
    from genlib import gallery as g

    gallery = tmp_path / "gallery"
    entry = publish(run_dir, gallery, title="first", max_total_bytes=10 * 2**20)
    used = sum(p.stat().st_size for p in entry.iterdir())
    with pytest.raises(GenlibError, match=r"gallery of this server is full .*remove one of your"):
        publish(run_dir, gallery, title="second", max_total_bytes=used + 100)
    assert len(list_gallery(gallery)) == 1
    publish(run_dir, gallery, title="second", max_total_bytes=3 * used)

    monkeypatch.delenv("GENLIB_HOSTED", raising=False)
    monkeypatch.delenv("GENLIB_GALLERY_MB", raising=False)
    assert g.limit_bytes() is None                                    # one's own machine
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    assert g.limit_bytes() == g.HOSTED_GALLERY_MB * 2**20
    monkeypatch.setenv("GENLIB_GALLERY_MB", "0.5")
    assert g.limit_bytes() == 2**19
    monkeypatch.setenv("GENLIB_GALLERY_MB", "0")
    assert g.limit_bytes() is None
    monkeypatch.setenv("GENLIB_GALLERY_MB", "lots")
    with pytest.raises(GenlibError, match="GENLIB_GALLERY_MB must be a number of megabytes"):
        g.limit_bytes()


def test_list_gallery_newest_first_and_skips_what_it_cannot_read(run_dir, tmp_path):
    gallery = tmp_path / "gallery"
    assert list_gallery(gallery) == []
    first = publish(run_dir, gallery, title="First", publisher=ALICE)
    second = publish(run_dir, gallery, title="Second", allow_weights=True)
    (gallery / "broken").mkdir()
    (gallery / "broken" / "published.json").write_text("{not json")
    (gallery / "empty").mkdir()
    (gallery / ".tmp-half").mkdir()
    (gallery / "stray.txt").write_text("x")
    shutil.copytree(first, gallery / "no-title")
    os.chmod(gallery / "no-title" / "published.json", 0o644)
    (gallery / "no-title" / "published.json").write_text(json.dumps({"family": "vae"}))

    entries = list_gallery(gallery)

    assert [e.title for e in entries] == ["Second", "First"]
    assert entries[1] == GalleryEntry(dir=first, title="First", family="vae", steps=2,
                                      published=entries[1].published, allow_weights=False, publisher=ALICE)
    assert entries[0].dir == second and entries[0].allow_weights and entries[0].publisher is None
    assert all(load_run(e.dir).family == "vae" for e in entries)


def test_only_the_publisher_removes_an_entry(run_dir, tmp_path):
    gallery = tmp_path / "gallery"
    mine = publish(run_dir, gallery, title="Mine", publisher=ALICE)
    nobodys = publish(run_dir, gallery, title="Preloaded")
    for who in (BOB, None, "", ALICE.upper()):
        with pytest.raises(GenlibError, match="Only the person who published"):
            remove_published(mine, gallery, who)
    for who in (ALICE, BOB, None):
        with pytest.raises(GenlibError):
            remove_published(nobodys, gallery, who)
    with pytest.raises(GenlibError, match="not an entry"):
        remove_published(run_dir, gallery, ALICE)                  # a folder outside the gallery
    with pytest.raises(GenlibError, match="not an entry"):
        remove_published(gallery / ".." / "gallery" / ".." / "elsewhere", gallery, ALICE)
    assert len(list_gallery(gallery)) == 2

    remove_published(mine, gallery, ALICE)

    assert not mine.exists() and [e.title for e in list_gallery(gallery)] == ["Preloaded"]
    assert sorted(p.name for p in gallery.iterdir()) == [nobodys.name]
    assert run_dir.is_dir() and (run_dir / "model.safetensors").exists()


def test_preload_gallery_from_bundles(run_dir, tmp_path):
    bundles, gallery = tmp_path / "bundles", tmp_path / "gallery"
    bundles.mkdir()
    write_bundle(run_dir, bundles / "Tiny_digits-VAE.zip")
    (bundles / "broken.zip").write_bytes(b"PK\x03\x04 this is not a zip file")
    (bundles / "notes.txt").write_text("not a bundle")

    added = preload_gallery(bundles, gallery)

    assert len(added) == 1 and list(added.skipped) == ["broken.zip"]
    entries = list_gallery(gallery)
    assert [(e.dir, e.title, e.family, e.publisher, e.allow_weights) for e in entries] == [
        (added[0], "Tiny digits VAE", "vae", None, False)]
    assert torch.equal(load_run(added[0]).model.sample(2, seed=0), load_run(run_dir).model.sample(2, seed=0))
    assert not (added[0] / "optimizer.safetensors").exists()
    assert [p.name for p in gallery.iterdir()] == [added[0].name]       # the extraction is gone

    shutil.copy(bundles / "Tiny_digits-VAE.zip", bundles / "same-again.zip")
    again = preload_gallery(bundles, gallery)                        # idempotent, by content
    assert list(again) == [] and len(list_gallery(gallery)) == 1


def test_preload_needs_a_folder(tmp_path):
    with pytest.raises(GenlibError, match="GENLIB_GALLERY"):
        preload_gallery(tmp_path / "nowhere", tmp_path / "gallery")


def _with_manifest(src, out, **changes):
    """A copy of the bundle `src` whose manifest says more (its files, and so their checksums, stay)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "manifest.json":
                data = json.dumps({**json.loads(data), **changes}).encode()
            zout.writestr(info, data)
    return out


def test_preload_takes_allow_weights_from_the_manifest(run_dir, tmp_path):
    bundles, gallery = tmp_path / "bundles", tmp_path / "gallery"
    bundles.mkdir()
    plain = write_bundle(run_dir, tmp_path / "plain.zip")
    _with_manifest(plain, bundles / "shared_weights.zip", allow_weights=True)
    _with_manifest(plain, bundles / "says_yes_as_text.zip", allow_weights="yes")

    added = preload_gallery(bundles, gallery)

    assert not added.skipped and len(added) == 2
    assert {e.title: e.allow_weights for e in list_gallery(gallery)} == {
        "shared weights": True, "says yes as text": False}
