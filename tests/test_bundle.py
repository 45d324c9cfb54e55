"""Bundles: one file per shared run; the same samples after the trip; public cards keep private
names out; hostile files are refused before anything is unpacked or unpickled."""
from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import zipfile

import pytest
import torch

from genlib import bundle
from genlib.bundle import FORMAT, is_bundle, load_bundle, open_bundle, read_manifest, write_bundle
from genlib.data import HealthReport
from genlib.errors import RunError
from genlib.pipeline import resume_run, train_model
from genlib.runs import load_run
from genlib.sample import sample_images

from tests.test_train import Tiny

FAMILIES = ("gan", "vae", "pixelcnn")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("bundle-runs")
    return {f: train_model(f, Tiny(), steps=2, device="cpu", out_dir=root / f).run_dir for f in FAMILIES}


# ---- forging bundles -------------------------------------------------------------------------
def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def manifest_for(files: dict[str, bytes], **changes) -> bytes:
    """A manifest that tells the truth about `files` (then `changes` are applied)."""
    m = {"format": FORMAT, "genlib_version": "0.1.0", "created": "2026-01-01T00:00:00", "family": "vae",
         "steps": 2, "files": [{"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                               for n, b in files.items()]}
    m.update(changes)
    return json.dumps(m).encode()


def make_zip(items, compress=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as zf:
        for name, data in items:
            zf.writestr(name, data)
    return buf.getvalue()


class Boom:
    """A pickle that makes a folder when it is unpickled: it must never be."""

    path = ""

    def __reduce__(self):
        return os.mkdir, (self.path,)


def forge(good: bytes, case: str, tmp_path) -> bytes:
    """A hostile variant of the genuine bundle `good` (see HOSTILE)."""
    files = {n: b for n, b in members(good).items() if n != "manifest.json"}

    def honest(fs):
        return make_zip([("manifest.json", manifest_for(fs)), *fs.items()])

    if case == "not a zip":
        return b"this is a text file, not a ZIP\n" * 10
    if case == "wrong format":
        return make_zip([("manifest.json", manifest_for(files, format="genlib-bundle/99")), *files.items()])
    if case in ("traversal", "absolute", "backslash", "subfolder"):
        name = {"traversal": "../evil.txt", "absolute": "/tmp/evil.txt", "backslash": "..\\evil.txt",
                "subfolder": "run/config.json"}[case]
        return honest({**files, name: b"evil"})
    if case == "unknown member":
        return honest({**files, "run.py": b"import os"})
    if case == "duplicate":
        with pytest.warns(UserWarning):
            return make_zip([("manifest.json", manifest_for(files)), *files.items(),
                             ("config.json", files["config.json"])])
    if case == "too many members":
        return make_zip([(f"x{i}", b"") for i in range(bundle.MAX_MEMBERS + 1)])
    if case == "size mismatch":
        m = json.loads(manifest_for(files))
        m["files"][0]["size"] += 1
        return make_zip([("manifest.json", json.dumps(m).encode()), *files.items()])
    if case == "checksum mismatch":
        csv = files["metrics.csv"]
        changed = bytes([csv[0] ^ 1]) + csv[1:]                        # same size, one bit flipped
        return make_zip([("manifest.json", manifest_for(files)), *{**files, "metrics.csv": changed}.items()])
    if case == "zip bomb":
        return honest({**files, "metrics.csv": b"0" * (20 << 20)})
    if case == "pickle as weights":
        Boom.path = str(tmp_path / "unpickled")
        return honest({**files, "model.safetensors": pickle.dumps({"weight": Boom()})})
    if case == "foreign config":
        return honest({**files, "config.json": json.dumps({"model": "something else"}).encode()})
    if case == "no manifest":
        return make_zip(files.items())
    raise AssertionError(case)


HOSTILE = ["not a zip", "wrong format", "traversal", "absolute", "backslash", "subfolder", "unknown member",
           "duplicate", "too many members", "size mismatch", "checksum mismatch", "zip bomb",
           "pickle as weights", "foreign config", "no manifest"]


# ---- writing ---------------------------------------------------------------------------------
def test_a_bundle_holds_the_run_and_a_manifest_but_not_the_optimizer(runs):
    data = write_bundle(runs["gan"])
    files = members(data)
    assert list(files) == ["manifest.json", "config.json", "model.safetensors", "metrics.csv", "samples.png",
                           "card.json"]
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == FORMAT and manifest["family"] == "gan" and manifest["steps"] == 2
    assert not manifest["resumable"] and manifest["run"] == "gan"
    for entry in manifest["files"]:
        body = files[entry["name"]]
        assert entry["size"] == len(body) and entry["sha256"] == hashlib.sha256(body).hexdigest()
    assert files["model.safetensors"] == (runs["gan"] / "model.safetensors").read_bytes()
    with_opt = members(write_bundle(runs["gan"], include_optimizer=True))
    assert with_opt["optimizer.safetensors"] == (runs["gan"] / "optimizer.safetensors").read_bytes()


def test_write_to_a_file_is_atomic_and_is_a_bundle(runs, tmp_path):
    out = write_bundle(runs["vae"], tmp_path / "shared" / "vae.zip")
    assert out == tmp_path / "shared" / "vae.zip" and is_bundle(out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["vae.zip"]       # no temporary file left
    assert read_manifest(out)["family"] == "vae"


def test_only_a_whole_run_is_bundled(runs, tmp_path):
    with pytest.raises(RunError, match="not a genlib run"):
        write_bundle(tmp_path)
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("config.json", "model.safetensors", "card.json"):
        (partial / name).write_bytes((runs["vae"] / name).read_bytes())
    assert "optimizer.safetensors" not in members(write_bundle(partial))
    with pytest.raises(RunError, match="without the optimizer"):
        write_bundle(partial, include_optimizer=True)


def test_is_bundle_says_no_to_everything_else(runs, tmp_path):
    (tmp_path / "plain.zip").write_bytes(make_zip([("a.txt", b"a")]))
    (tmp_path / "text.zip").write_text("not a zip")
    (tmp_path / "other.zip").write_bytes(make_zip([("manifest.json", b'{"format": "genlib-bundle/99"}')]))
    for name in ("plain.zip", "text.zip", "other.zip", "missing.zip"):
        assert not is_bundle(tmp_path / name), name
    assert not is_bundle(runs["vae"])                   # a run folder is not a bundle file


# ---- the same model after the trip -------------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_same_samples_from_the_run_and_its_bundle(runs, tmp_path, family):
    data = write_bundle(runs[family])
    opened = open_bundle(data, tmp_path / "elsewhere")
    before = sample_images(load_run(runs[family]).model, 6, seed=3)
    assert torch.equal(sample_images(load_run(opened).model, 6, seed=3), before)
    run = load_bundle(data, tmp_path / "cache")
    assert run.family == family and run.model.device.type == "cpu"
    assert torch.equal(sample_images(run.model, 6, seed=3), before)
    assert not torch.equal(sample_images(run.model, 6, seed=4), before)


def test_load_bundle_reuses_its_cache_and_repairs_it(runs, tmp_path, monkeypatch):
    path = write_bundle(runs["vae"], tmp_path / "vae.zip")
    first = load_bundle(path, tmp_path / "cache")
    assert first.dir.parent == tmp_path / "cache"
    assert first.dir.name == hashlib.sha256(path.read_bytes()).hexdigest()
    calls = []
    real = bundle._unpack
    monkeypatch.setattr(bundle, "_unpack", lambda *a, **k: calls.append(1) or real(*a, **k))
    with open(path, "rb") as f:                          # a file object works as well as a path
        assert load_bundle(f, tmp_path / "cache").dir == first.dir
    assert calls == []
    (first.dir / "model.safetensors").unlink()           # a damaged cache entry is unpacked again
    assert load_bundle(path.read_bytes(), tmp_path / "cache").dir == first.dir and calls == [1]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [first.dir.name]


def test_the_bundle_cache_keeps_only_the_most_recently_used(runs, tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "CACHE_KEEP", 2)
    cache = tmp_path / "cache"
    paths = {f: write_bundle(runs[f], tmp_path / f"{f}.zip") for f in FAMILIES}
    first = load_bundle(paths["gan"], cache).dir
    os.utime(first, (1, 1))                             # long ago …
    load_bundle(paths["vae"], cache)
    assert load_bundle(paths["gan"], cache).dir == first  # … but used again now
    load_bundle(paths["pixelcnn"], cache)                 # a third: the least recently used goes
    kept = {p.name for p in cache.iterdir()}
    assert kept == {first.name, hashlib.sha256(paths["pixelcnn"].read_bytes()).hexdigest()}


def test_load_bundle_caches_under_the_runs_folder_by_default(runs, tmp_path):
    run = load_bundle(write_bundle(runs["gan"]))
    assert run.dir.parent == tmp_path / "runs" / ".bundles"     # GENLIB_RUNS_DIR (tests/conftest.py)


def test_a_stream_that_cannot_seek_opens_too(runs, tmp_path):
    class Stream:
        def __init__(self, data):
            self._f = io.BytesIO(data)

        def read(self, n=-1):
            return self._f.read(n)

    assert load_run(open_bundle(Stream(write_bundle(runs["gan"])), tmp_path / "s")).family == "gan"


def test_a_bundle_with_the_optimizer_resumes_and_one_without_is_refused_for_it(runs, tmp_path):
    with pytest.raises(RunError, match="--with-optimizer"):
        open_bundle(write_bundle(runs["vae"]), tmp_path / "no", resumable=True)
    assert not (tmp_path / "no").exists()
    dest = open_bundle(write_bundle(runs["vae"], include_optimizer=True), tmp_path / "yes", resumable=True)
    result = resume_run(dest, Tiny(), steps=4, device="cpu")
    assert result.state.step == 4 and load_run(dest).card["steps"] == 4
    assert load_run(runs["vae"]).card["steps"] == 2                    # the original is untouched


def test_open_needs_a_new_folder(runs, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match="not empty"):
        open_bundle(write_bundle(runs["vae"]), tmp_path / "taken")
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    assert open_bundle(write_bundle(runs["vae"]), tmp_path / "empty") == tmp_path / "empty"


# ---- public bundles --------------------------------------------------------------------------
class PrivateTiny(Tiny):
    """Tiny, uploaded under a private file name with private class folders and a skipped file."""

    def __init__(self):
        super().__init__()
        self.name, self.class_names = "holiday-photos-of-alice.zip", ["alice_home", "bob_office"]
        self.report = HealthReport(
            kind="images", used=16, skipped=[("secret/diary-page.png", "not an image")],
            repairs=["Scaled pixel values from [0, 255] to [-1, 1].", "Numbered the 2 label values "
                     "(alice_home, bob_office) as classes 0-1."],
            warnings=["Ignored labels_of_alice.npy: it holds (3,) values, not one per image.",
                      "Only 16 images: a generative model will mostly copy them. A thousand or more "
                      "gives it something to learn."])


PRIVATE = ("holiday", "alice", "bob_office", "diary", "secret")


@pytest.mark.parametrize("conditional", [True, False])
def test_a_public_bundle_names_no_private_file_or_folder(tmp_path, conditional):
    run_dir = train_model("vae", PrivateTiny(), steps=2, device="cpu", out_dir=tmp_path / "run",
                          overrides={"conditional": conditional}).run_dir
    private = json.dumps(load_run(run_dir).card)
    assert all(word in private for word in PRIVATE)                    # the folder itself keeps them
    files = members(write_bundle(run_dir, public=True))
    for name, body in files.items():
        text = body.decode("latin-1")
        if conditional:
            text = text.replace("alice_home", "").replace("bob_office", "")
        assert not [w for w in PRIVATE if w in text], (name, text)
    card = json.loads(files["card.json"])
    assert card["family"] == "vae" and card["steps"] == 2 and card["preset"] == "quick"
    assert card["data"]["count"] == 16 and card["data"]["shape"] == [1, 8, 8] and card["data"]["name"] == "images"
    assert card["data"]["health"] == ["Used 16 images.", "Repaired: Scaled pixel values from [0, 255] to [-1, 1].",
                                      "Note: Only 16 images: a generative model will mostly copy them. A "
                                      "thousand or more gives it something to learn."]
    # a conditional model labels what it draws with the class names; others do not need them
    assert card["data"]["class_names"] == (["alice_home", "bob_office"] if conditional else [])
    assert card["info"]["data"] == card["data"] and "run" not in json.loads(files["manifest.json"])
    assert json.loads(files["manifest.json"])["public"] is True


def test_a_public_bundle_keeps_the_name_of_built_in_data():
    card = bundle._public_card({"family": "gan", "error": "/home/alice/x.zip failed",
                                "data": {"name": "digits", "class_names": ["0", "1"]}}, conditional=False)
    assert card["data"]["name"] == "digits" and "error" not in card


# ---- hostile bundles -------------------------------------------------------------------------
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_bundles_are_refused_and_leave_nothing(runs, tmp_path, case):
    data = forge(write_bundle(runs["vae"]), case, tmp_path)
    before = set(tmp_path.iterdir())
    with pytest.raises(RunError) as info:
        open_bundle(data, tmp_path / "opened")
    message = str(info.value)
    assert "\n" not in message and message.endswith(".") and len(message) < 400, message
    assert set(tmp_path.iterdir()) == before                       # no folder, no temporary left
    assert not (tmp_path / "unpickled").exists()
    with pytest.raises(RunError):
        load_bundle(data, tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


@pytest.mark.parametrize("case, words", [
    ("not a zip", "not a ZIP"), ("wrong format", "another format"), ("traversal", "folder or path"),
    ("unknown member", "no part of a genlib bundle"), ("duplicate", "twice"),
    ("too many members", "at most 7"), ("size mismatch", "not the size"), ("checksum mismatch", "checksum"),
    ("zip bomb", "ZIP bomb"), ("pickle as weights", "does not load"), ("foreign config", "does not load"),
])
def test_each_refusal_says_what_is_wrong(runs, tmp_path, case, words):
    with pytest.raises(RunError, match=words):
        open_bundle(forge(write_bundle(runs["vae"]), case, tmp_path), tmp_path / "opened")


def test_size_caps_and_the_stricter_hosted_one(runs, tmp_path, monkeypatch):
    data = write_bundle(runs["vae"])
    declared = sum(len(b) for b in members(data).values())
    monkeypatch.setattr(bundle, "MAX_BYTES", declared - 1)
    with pytest.raises(RunError, match="larger than a bundle may be"):
        open_bundle(data, tmp_path / "a")
    monkeypatch.setattr(bundle, "MAX_BYTES", 2 << 30)
    monkeypatch.setattr(bundle, "HOSTED_MAX_BYTES", declared - 1)
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    assert bundle.max_bundle_bytes() == declared - 1
    with pytest.raises(RunError, match="on this shared server"):
        open_bundle(data, tmp_path / "b")
    monkeypatch.delenv("GENLIB_HOSTED")
    assert open_bundle(data, tmp_path / "c").is_dir()


def test_a_hosted_server_opens_smaller_bundles(monkeypatch):
    anywhere = bundle.max_bundle_bytes()
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    assert bundle.max_bundle_bytes() < anywhere
