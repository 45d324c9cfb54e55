"""Users' image files → ImageData: every source, the health report, and the safety caps."""
from __future__ import annotations

import gzip
import io
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from genlib.data import load_image, load_images
from genlib.data.images import (IMAGE_SIDES, IMAGE_SIZES, images_from_array, limits,
                                pick_image_size, read_idx)
from genlib.errors import DataError

RED, BLUE = (220, 30, 30), (30, 30, 220)


def png(size=(20, 20), color=RED, mode="RGB", fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, fmt)
    return buf.getvalue()


def make_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def class_files() -> dict[str, bytes]:
    """Two classes under a shared top folder, plus junk, a corrupt PNG and a text file."""
    files = {f"data/cat/{i}.png": png(color=(220, 30 + i, 30)) for i in range(5)}
    files |= {f"data/dog/{i}.png": png(color=(30, 30 + i, 220)) for i in range(4)}
    files |= {"__MACOSX/data/cat/._0.png": b"\x00\x05\x16\x07junk", "data/.DS_Store": b"x",
              "data/Thumbs.db": b"x", "data/.hidden/7.png": png()}
    files |= {"data/cat/broken.png": b"\x89PNG\r\n\x1a\n" + b"garbage" * 10,
              "data/readme.txt": b"these are my pets\n"}
    return files


def check_ready(data, n, shape):
    assert data.images.dtype == torch.float32 and data.images.is_contiguous()
    assert tuple(data.images.shape) == (n, *shape)
    assert data.images.min() >= -1 and data.images.max() <= 1
    assert data.report.used == n


# ---- ZIP and folders ----------------------------------------------------------------------
def test_zip_with_class_folders_junk_and_bad_files(tmp_path):
    path = tmp_path / "pets.zip"
    path.write_bytes(make_zip(class_files()))
    data = load_images(path)
    check_ready(data, 9, (3, 16, 16))                 # 20 px → the largest of 16/28/32/64 not above it
    assert data.name == "pets"
    assert data.class_names == ["cat", "dog"]
    assert data.labels.tolist() == [0] * 5 + [1] * 4
    assert data.report.facts["class_counts"] == {"cat": 5, "dog": 4}
    assert data.images[:5, 0].mean() > 0.5 > data.images[:5, 2].mean()   # cats red,
    assert data.images[5:, 2].mean() > 0.5 > data.images[5:, 0].mean()   # dogs blue
    reasons = dict(data.report.skipped)
    assert reasons.keys() == {"data/cat/broken.png", "data/readme.txt"}
    assert reasons["data/cat/broken.png"].startswith("corrupt")
    assert reasons["data/readme.txt"] == "not an image"
    assert data.report.facts["junk_ignored"] == 4
    assert data.report.facts["sizes"] == {"20×20": 9}
    assert data.report.facts["modes"] == {"RGB": 9}
    assert any("Resized 9 images to 16×16 from 20×20 (9)" in r for r in data.report.repairs)
    assert data.report.to_dict()["skipped"][0] == ["data/cat/broken.png", reasons[
        "data/cat/broken.png"]]


def test_folder_gives_the_same_data_as_the_zip(tmp_path):
    files = class_files()
    for name, blob in files.items():
        (tmp_path / "pets" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pets" / name).write_bytes(blob)
    from_folder = load_images(tmp_path / "pets")
    from_zip = load_images(make_zip(files), name="pets.zip")
    assert torch.equal(from_folder.images, from_zip.images)
    assert torch.equal(from_folder.labels, from_zip.labels)
    assert from_folder.report.facts["source"] == "folder"
    assert len(from_folder.report.skipped) == 2
    # __MACOSX/, .hidden/ (pruned as folders), .DS_Store and Thumbs.db
    assert from_folder.report.facts["junk_ignored"] == 4


def test_images_at_top_level_have_no_labels():
    data = load_images(make_zip({f"{i}.png": png(color=(i, i, i)) for i in range(3)}),
                       name="x.zip")
    assert data.labels is None and data.class_names == [] and data.num_classes == 0
    assert data.shape == (1, 16, 16)                  # equal channels → gray


def test_loose_images_beside_class_folders_drop_labels_with_a_warning():
    files = {"a/0.png": png(), "b/0.png": png(color=BLUE), "loose.png": png()}
    data = load_images(make_zip(files), name="x.zip")
    assert data.labels is None
    assert any("beside the class folders" in w for w in data.report.warnings)


def test_color_rules():
    gray = {f"{i}.png": png(mode="L", color=40 * i) for i in range(3)}
    assert load_images(make_zip(gray), name="g.zip").shape == (1, 16, 16)
    assert load_images(make_zip(gray), name="g.zip", color="rgb").shape == (3, 16, 16)
    mixed = gray | {"c.png": png(color=RED)}
    data = load_images(make_zip(mixed), name="m.zip")
    assert data.shape == (3, 16, 16)
    assert any("gray channel of 3 gray images" in r for r in data.report.repairs)
    as_gray = load_images(make_zip(mixed), name="m.zip", color="gray")
    assert as_gray.shape == (1, 16, 16)
    expected = Image.new("RGB", (1, 1), RED).convert("L").getpixel((0, 0))   # Pillow's luma
    got = (as_gray.images[3].mean().item() + 1) * 127.5
    assert abs(got - expected) < 1


def test_rgba_is_composited_on_white_and_non_square_is_centre_cropped():
    clear = png(color=(0, 0, 0, 0), mode="RGBA")       # fully transparent black → white
    wide = Image.new("RGB", (30, 20), (0, 0, 0))
    wide.paste((255, 255, 255), (5, 0, 25, 20))         # white centre square, black sides
    buf = io.BytesIO()
    wide.save(buf, "PNG")
    data = load_images(make_zip({"a.png": clear, "b.png": buf.getvalue()}), name="x.zip",
                       image_size=20)
    assert torch.all(data.images == 1.0)
    repairs = " ".join(data.report.repairs)
    assert "Composited 1 image with transparency" in repairs
    assert "Cropped 1 non-square image to the" in repairs


def test_gif_first_frame_bmp_webp_jpeg_and_unsupported_tiff():
    frames = [Image.new("L", (16, 16), 255), Image.new("L", (16, 16), 0)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    files = {"a.gif": gif.getvalue(), "b.bmp": png(fmt="BMP"), "c.webp": png(fmt="WEBP"),
             "d.jpg": png(fmt="JPEG"), "e.tif": png(fmt="TIFF")}
    data = load_images(make_zip(files), name="x.zip")
    assert data.report.used == 4
    assert torch.all(data.images[0] == 1.0)           # first GIF frame, white
    assert dict(data.report.skipped)["e.tif"].startswith("unsupported format (TIFF)")
    assert data.report.facts["formats"] == {"GIF": 1, "BMP": 1, "WEBP": 1, "JPEG": 1}
    assert any("first frame of 1 animated image." in r for r in data.report.repairs)


def test_image_size_default_is_the_largest_standard_side_not_above_the_median():
    files = {f"{i}.png": png(size=(60, 60)) for i in range(3)} | {"s.png": png(size=(12, 12))}
    assert load_images(make_zip(files), name="x.zip").shape[-1] == 32           # shrunk, not blown up
    photos = {f"{i}.png": png(size=(48, 48)) for i in range(3)}
    assert load_images(make_zip(photos), name="p.zip").shape[-1] == 32
    assert pick_image_size([29]) == 28 and pick_image_size([31]) == 28 and pick_image_size([32]) == 32
    assert pick_image_size([10]) == 16                                           # tiny: the smallest
    assert pick_image_size([64, 64, 400]) == 64
    assert load_images(make_zip(files), name="x.zip", image_size=24).shape[-1] == 24


def test_every_size_a_person_can_choose_loads():
    assert set(IMAGE_SIDES) <= set(IMAGE_SIZES)          # a guessed size can also be chosen
    for side in IMAGE_SIZES:
        data = images_from_array(np.zeros((2, 20, 20), np.uint8), image_size=side)
        assert data.shape == (1, side, side)


def test_exact_duplicates_are_counted_and_kept():
    files = {"a.png": png(), "b.png": png(), "c.png": png(color=BLUE)}
    data = load_images(make_zip(files), name="x.zip")
    assert data.report.used == 3 and data.report.facts["duplicates"] == 1
    assert any("1 image is an exact copy" in w for w in data.report.warnings)


def test_empty_or_useless_zips_raise_data_error():
    with pytest.raises(DataError, match="empty ZIP"):
        load_images(make_zip({}), name="x.zip")
    with pytest.raises(DataError, match="hidden or system files"):
        load_images(make_zip({"__MACOSX/._a.png": b"x", ".DS_Store": b"x"}), name="x.zip")
    with pytest.raises(DataError, match="no usable images.*readme.txt: not an image"):
        load_images(make_zip({"readme.txt": b"hello"}), name="x.zip")


# ---- safety caps -------------------------------------------------------------------------
def set_declared_size(blob: bytes, member: str, size: int) -> bytes:
    """Rewrite the uncompressed size a ZIP's central directory declares for one member."""
    at = blob.index(b"PK\x01\x02")
    while True:
        name_len = struct.unpack("<H", blob[at + 28:at + 30])[0]
        if blob[at + 46:at + 46 + name_len].decode() == member:
            return blob[:at + 24] + struct.pack("<I", size) + blob[at + 28:]
        at = blob.index(b"PK\x01\x02", at + 4)


def test_zip_bomb_like_members_are_skipped_not_read():
    blob = make_zip({"a.png": png(), "b.png": png(color=BLUE), "c.png": png(color=(9, 9, 9))})
    blob = set_declared_size(blob, "b.png", 3 << 30)     # claims 3 GiB
    blob = set_declared_size(blob, "c.png", 10)          # claims less than it holds
    data = load_images(blob, name="x.zip")
    reasons = dict(data.report.skipped)
    assert data.report.used == 1
    assert reasons["b.png"].startswith("too large")
    assert reasons["c.png"].startswith("corrupt")


def test_caps_on_entries_total_size_pixels_upload_and_output(monkeypatch):
    blob = make_zip({f"{i}.png": png() for i in range(5)})
    monkeypatch.setattr(limits, "MAX_ZIP_ENTRIES", 4)
    with pytest.raises(DataError, match="5 entries"):
        load_images(blob, name="x.zip")
    monkeypatch.undo()
    monkeypatch.setattr(limits, "MAX_ZIP_TOTAL_BYTES", 100)
    with pytest.raises(DataError, match="unpacks to"):
        load_images(blob, name="x.zip")
    monkeypatch.undo()
    monkeypatch.setattr(limits, "MAX_IMAGE_PIXELS", 300)
    data = load_images(make_zip({"big.png": png(), "small.png": png(size=(10, 10))}),
                       name="x.zip")
    assert data.report.used == 1 and dict(data.report.skipped)["big.png"].startswith("too large")
    monkeypatch.undo()
    monkeypatch.setattr(limits, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(DataError, match="upload"):
        load_images(blob, name="x.zip")
    with pytest.raises(DataError, match="upload"):
        load_images(io.BytesIO(blob), name="x.zip")
    monkeypatch.undo()
    monkeypatch.setattr(limits, "MAX_DECODED_BYTES", 1000)
    with pytest.raises(DataError, match="smaller image_size"):
        load_images(blob, name="x.zip")
    with pytest.raises(DataError, match="smaller image_size"):
        images_from_array(np.zeros((10, 28, 28), np.uint8))


# ---- arrays: .npz / .npy -----------------------------------------------------------------
def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def npy(array, allow_pickle=False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


BASE = np.random.default_rng(0).integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
RGB_EXPECTED = torch.from_numpy(BASE.transpose(0, 3, 1, 2) / 127.5 - 1).float()
GRAY_EXPECTED = RGB_EXPECTED[:, :1]


@pytest.mark.parametrize("layout", ["NHW", "NHW1", "N1HW", "NHWC", "NCHW"])
@pytest.mark.parametrize("scale", ["uint8", "float01", "float-11", "float0255"])
def test_npz_layouts_and_value_scales(layout, scale):
    rgb = layout in ("NHWC", "NCHW")
    x = BASE if rgb else BASE[..., 0]
    x = {"NHW": x, "NHW1": x[..., None], "N1HW": x[:, None], "NHWC": x,
         "NCHW": x.transpose(0, 3, 1, 2) if rgb else x}[layout]
    x = {"uint8": x, "float01": x / 255.0, "float-11": x / 127.5 - 1,
         "float0255": x.astype(np.float32)}[scale]
    data = load_images(npz(images=x), name="arr.npz")
    expected = RGB_EXPECTED if rgb else GRAY_EXPECTED
    check_ready(data, 6, tuple(expected.shape[1:]))
    assert torch.allclose(data.images, expected, atol=1e-5)
    assert data.report.facts["value_range"] == {"uint8": [0, 255], "float01": [0, 1],
                                                "float-11": [-1, 1],
                                                "float0255": [0, 255]}[scale]


def test_rgba_array_is_composited_and_float16_is_read():
    x = np.zeros((3, 16, 16, 4), np.uint8)              # transparent black → white
    data = load_images(npy(x), name="a.npy")
    assert data.shape == (1, 16, 16) and torch.all(data.images == 1)
    data = load_images(npy(np.full((3, 16, 16), 0.5, np.float16)), name="h.npy")
    assert torch.allclose(data.images, torch.zeros(1), atol=1e-3)


def test_npz_picks_images_and_labels_by_key_or_size():
    x = BASE[..., 0]
    data = load_images(npz(x_train=x, y_train=np.array([0, 1, 2, 0, 1, 2]),
                           extra=np.zeros((100, 100))), name="d.npz")
    assert data.report.facts["array"] == "x_train"
    assert data.class_names == ["0", "1", "2"] and data.labels.tolist() == [0, 1, 2, 0, 1, 2]
    data = load_images(npz(a=np.zeros((6, 4, 4)), b=x, y=np.arange(5)), name="d.npz")
    assert data.report.facts["array"] == "b"
    assert data.labels is None and any("Ignored the array 'y'" in w for w in
                                       data.report.warnings)


def test_label_kinds_strings_one_hot_and_renumbered():
    x = BASE[:4, ..., 0]
    data = load_images(npz(images=x, labels=np.array(["dog", "cat", "dog", "cat"])),
                       name="d.npz")
    assert data.class_names == ["cat", "dog"] and data.labels.tolist() == [1, 0, 1, 0]
    data = load_images(npz(images=x, labels=np.eye(2)[[0, 1, 1, 0]]), name="d.npz")
    assert data.labels.tolist() == [0, 1, 1, 0]
    data = load_images(npz(images=x, labels=np.array([3, 7, 7, 3])), name="d.npz")
    assert data.class_names == ["3", "7"] and data.labels.tolist() == [0, 1, 1, 0]
    assert any("Numbered the 2 label values" in r for r in data.report.repairs)
    data = load_images(npz(images=x, labels=np.array([0, 1, 1, 0]),
                           class_names=np.array(["no", "yes"])), name="d.npz")
    assert data.class_names == ["no", "yes"]


def test_npy_flat_rows_and_bad_shapes(tmp_path):
    data = load_images(npy(np.zeros((5, 64), np.uint8)), name="flat.npy")
    assert data.shape == (1, 16, 16) and any("8×8" in r for r in data.report.repairs)
    for bad in (np.zeros(10), np.zeros((5, 28, 28, 7)), np.zeros((28, 28, 3)),
                np.zeros((5, 10)), np.zeros((0, 28, 28))):
        with pytest.raises(DataError):
            load_images(npy(bad), name="bad.npy")
    with pytest.raises(DataError, match="NaN"):
        load_images(npy(np.full((3, 8, 8), np.nan)), name="nan.npy")
    (tmp_path / "a.npy").write_bytes(npy(BASE))
    assert load_images(tmp_path / "a.npy").shape == (3, 16, 16)


class Exploit:
    """Unpickling this writes a marker file: the proof that a loader unpickled something."""

    marker = None

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickled_object_arrays_are_refused_without_unpickling(tmp_path):
    Exploit.marker = tmp_path / "pwned"
    payload = np.array([Exploit()], dtype=object)
    with pytest.raises(DataError, match="pickled"):
        load_images(npy(payload, allow_pickle=True), name="evil.npy")
    with pytest.raises(DataError, match="pickled"):
        load_images(npz(images=payload), name="evil.npz")
    assert not Exploit.marker.exists()


def test_files_that_are_not_what_their_name_says():
    with pytest.raises(DataError, match="not a NumPy .npz"):
        load_images(b"just some text\n", name="data.npz")
    with pytest.raises(DataError, match="not a NumPy .npy"):
        load_images(b"just some text\n", name="data.npy")
    with pytest.raises(DataError, match="cannot read notes.txt"):
        load_images(b"just some text\n", name="notes.txt")
    with pytest.raises(DataError, match="single image"):
        load_images(png(), name="one.png")
    with pytest.raises(DataError, match="damaged or cut short"):
        load_images(npy(BASE)[:-100], name="short.npy")


# ---- IDX ---------------------------------------------------------------------------------
def idx(array: np.ndarray, code: int) -> bytes:
    """An IDX file written by hand: 0, 0, type code, ndim, big-endian sizes, big-endian data."""
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def test_idx_plain_gzipped_with_sibling_labels(tmp_path):
    x = BASE[:5, :, :12, 0]                              # 5 × 16 × 12: non-square
    labels = np.array([1, 0, 1, 1, 0], np.uint8)
    (tmp_path / "my-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx(x, 0x08)))
    (tmp_path / "my-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx(labels, 0x08)))
    data = load_images(tmp_path / "my-images-idx3-ubyte.gz", image_size=12)
    assert data.name == "my" and data.report.facts["source"] == "idx"
    assert data.labels.tolist() == labels.tolist()
    assert data.report.facts["labels_from"] == "my-labels-idx1-ubyte.gz"
    assert torch.allclose(data.images[:, 0], torch.from_numpy(x[:, 2:14] / 127.5 - 1).float(),
                          atol=1e-6)                       # centre crop of the 16 rows
    uploaded = load_images(idx(x, 0x08), name="my-images-idx3-ubyte", image_size=12)
    assert torch.equal(uploaded.images, data.images) and uploaded.labels is None


def test_idx_types_and_damage():
    f = np.linspace(0, 1, 2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8)
    assert np.array_equal(read_idx(idx(f, 0x0D)), f)
    i16 = np.arange(24, dtype=np.int16).reshape(2, 3, 4) * 1000
    assert np.array_equal(read_idx(gzip.compress(idx(i16, 0x0B))), i16)
    with pytest.raises(DataError, match="damaged"):
        read_idx(idx(f, 0x0D)[:-4])
    with pytest.raises(DataError, match="damaged gzip"):
        load_images(gzip.compress(idx(f, 0x0D))[:-10], name="x.gz")
    with pytest.raises(DataError, match="not a set of images"):
        load_images(idx(np.arange(10, dtype=np.uint8), 0x08), name="labels.idx")


# ---- inputs and arguments ----------------------------------------------------------------
def test_bytes_file_like_and_unseekable_uploads():
    blob = make_zip({"a/0.png": png(), "b/0.png": png(color=BLUE)})

    class Pipe(io.RawIOBase):                          # a stream that cannot seek
        def __init__(self):
            self.inner = io.BytesIO(blob)

        def readable(self):
            return True

        def readinto(self, b):
            return self.inner.readinto(b)

    for source in (blob, bytearray(blob), memoryview(blob), io.BytesIO(blob),
                   io.BufferedReader(Pipe())):
        data = load_images(source, name="up.zip")
        assert data.class_names == ["a", "b"] and data.name == "up"


def test_bad_arguments_and_missing_paths_explain_themselves(tmp_path):
    with pytest.raises(DataError, match="no file or folder"):
        load_images(tmp_path / "nope.zip")
    with pytest.raises(DataError, match="image_size"):
        load_images(npy(BASE), name="a.npy", image_size=2)
    with pytest.raises(DataError, match="color"):
        load_images(npy(BASE), name="a.npy", color="purple")
    with pytest.raises(DataError, match="binary file"):
        load_images(12345)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no files"):
        load_images(tmp_path / "empty")


# ---- one picture ---------------------------------------------------------------------------
def noise_picture(fmt: str, mode: str, size: tuple[int, int]) -> bytes:
    """Random pixels, so that cropping, resizing and the colour rule all change the numbers."""
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    pixels = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("mode", ["RGB", "L"])
@pytest.mark.parametrize("size", [(40, 30), (320, 240)])   # decoded in the first pass / later
@pytest.mark.parametrize("color", ["gray", "rgb"])
def test_load_image_gives_what_a_one_file_zip_gives(fmt, mode, size, color):
    raw = noise_picture(fmt, mode, size)
    name = f"me.{fmt.lower()}"
    via_zip = load_images(make_zip({name: raw}), name="me.zip", image_size=28, color=color)
    x = load_image(raw, name=name, image_size=28, color=color)
    assert x.dtype == torch.float32 and x.shape == (1, 1 if color == "gray" else 3, 28, 28)
    assert torch.equal(x, via_zip.images)


def test_load_image_sources_and_pictures_it_refuses(tmp_path, monkeypatch):
    raw = noise_picture("PNG", "RGB", (40, 30))
    (tmp_path / "me.png").write_bytes(raw)
    x = load_image(raw, name="me.png", image_size=16, color="rgb")
    assert torch.equal(load_image(tmp_path / "me.png", image_size=16, color="rgb"), x)
    assert torch.equal(load_image(io.BytesIO(raw), image_size=16, color="rgb"), x)
    with pytest.raises(DataError, match="notes.txt as a picture: not an image. Give a PNG"):
        load_image(b"these are my pets\n", name="notes.txt", image_size=16, color="gray")
    with pytest.raises(DataError, match="cut.png as a picture: corrupt.*save or export it again"):
        load_image(raw[:100], name="cut.png", image_size=16, color="gray")
    with pytest.raises(DataError, match="folder"):
        load_image(tmp_path, image_size=16, color="gray")
    with pytest.raises(DataError, match="image_size"):
        load_image(raw, name="me.png", image_size=None, color="gray")
    monkeypatch.setattr(limits, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(DataError, match="too large: 40×30 is over 1,000 pixels. Make it smaller"):
        load_image(raw, name="me.png", image_size=16, color="gray")
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 100)
    with pytest.raises(DataError, match="the most genlib reads for one picture"):
        load_image(tmp_path / "me.png", image_size=16, color="gray")


# ---- a shared server's limits (GENLIB_HOSTED=1) -------------------------------------------
MiB = 1 << 20


def npy_header(shape, dtype=np.uint8) -> bytes:
    """A .npy file that is only a header: what it declares, with none of the data."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def idx_header(shape) -> bytes:
    return struct.pack(">BBBB", 0, 0, 0x08, len(shape)) + struct.pack(f">{len(shape)}I", *shape)


def bmp(size=(256, 256), color=RED) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "BMP")
    return buf.getvalue()


@pytest.fixture(scope="module")
def zeros_npz() -> bytes:
    """Half a megabyte of .npz that decodes to 2.1 GiB of float32: 720,000 blank 28×28 images."""
    buf = io.BytesIO()
    np.savez_compressed(buf, images=np.zeros((720_000, 28, 28), np.uint8))
    return buf.getvalue()


@pytest.mark.parametrize("hosted", ["1", ""])
def test_a_tiny_npz_that_decodes_to_gigabytes_is_refused_before_it_is_read(zeros_npz, hosted,
                                                                          monkeypatch):
    monkeypatch.setenv("GENLIB_HOSTED", hosted)
    assert len(zeros_npz) < MiB and 720_000 * 28 * 28 * 4 > 2.1 * (1 << 30)
    tracemalloc.start()                                  # numpy reports its buffers to tracemalloc
    try:
        with pytest.raises(DataError) as e:
            load_images(zeros_npz, name="zeros.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * MiB                               # reading it would take 538 MB
    where = "100:1 on this shared server" if hosted else "1,000:1"
    assert str(e.value).startswith(f"Compression ratio can be at most {where} (zeros.npz:images "
                                   "unpacks from 535.9 KB to 538.3 MB, 1,029:1). Save the images")
    assert "numpy.savez rather than numpy.savez_compressed" in str(e.value)


def test_hosted_memory_limit_is_read_from_array_headers_at_and_past_the_edge(monkeypatch):
    # 32,768 gray 64×64 images are 512 MiB of float32, the edge; 10,922 in RGB are just under
    # it. These files hold only a header, so a refusal comes from the header, and a file that
    # passes it fails as cut short.
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    for source, name in ((npy_header, "x.npy"), (idx_header, "x-idx3-ubyte")):
        with pytest.raises(DataError, match="cut short|damaged"):
            load_images(source((32_768, 64, 64)), name=name)
        with pytest.raises(DataError, match=r"^Images in memory can be at most 512 MB on this shared "
                                            r"server \(32,769 images of 1×64×64 need 512.02 MB\)\. "
                                            "Use fewer images or choose a smaller image_size."):
            load_images(source((32_769, 64, 64)), name=name)
    with pytest.raises(DataError, match="cut short"):
        load_images(npy_header((10_922, 64, 64)), name="x.npy", color="rgb")
    with pytest.raises(DataError, match=r"10,923 images of 3×64×64"):     # gray made RGB: 3 channels
        load_images(npy_header((10_923, 64, 64)), name="x.npy", color="rgb")
    with pytest.raises(DataError, match=r"32,769 images of 1×64×64"):     # big images made small
        load_images(npy_header((32_769, 96, 96)), name="x.npy", image_size=64)
    with pytest.raises(DataError, match=r"x.npy is an array of 1 GB"):    # raw bytes, from the header
        load_images(npy_header((1 << 14, 256, 256)), name="x.npy", image_size=8)
    monkeypatch.setenv("GENLIB_HOSTED", "0")             # one's own machine: 2 GiB
    with pytest.raises(DataError, match="cut short"):
        load_images(npy_header((32_769, 64, 64)), name="x.npy", color="rgb")


def test_gray_arrays_made_rgb_count_three_channels(monkeypatch):
    edge = 10 * 3 * 28 * 28 * 4
    monkeypatch.setattr(limits, "MAX_DECODED_BYTES", edge)
    assert images_from_array(np.zeros((10, 28, 28), np.uint8), color="rgb").shape == (3, 28, 28)
    monkeypatch.setattr(limits, "MAX_DECODED_BYTES", edge - 1)
    with pytest.raises(DataError, match="10 images of 3×28×28"):
        images_from_array(np.zeros((10, 28, 28), np.uint8), color="rgb")


def test_hosted_upload_limit_at_and_past_the_edge(monkeypatch):
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    blob = bytes(50 * MiB)
    with pytest.raises(DataError, match="genlib cannot read x.bin"):     # the size is allowed
        load_images(blob, name="x.bin")
    message = (r"^Image upload can be at most 50 MB on this shared server \(x.bin is 50 MB\)\. "
               r"Use fewer or smaller images\.$")
    with pytest.raises(DataError, match=message):
        load_images(blob + b"\0", name="x.bin")
    with pytest.raises(DataError, match=message):
        load_images(io.BytesIO(blob + b"\0"), name="x.bin")
    monkeypatch.delenv("GENLIB_HOSTED")
    with pytest.raises(DataError, match="genlib cannot read x.bin"):
        load_images(blob + b"\0", name="x.bin")


def test_hosted_compression_limit_on_zip_members_and_gzip(monkeypatch):
    # 20 blank 256×256 BMPs pack 800:1; each is under a megabyte, together they are 3.9 MB
    blanks = make_zip({f"{i}.bmp": bmp(color=(i, i, i)) for i in range(20)})
    assert load_images(blanks, name="blanks.zip").report.used == 20        # fine locally (1,000:1)
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    with pytest.raises(DataError, match=r"^Compression ratio can be at most 100:1 on this shared "
                                        r"server \(blanks.zip unpacks from 4.7 KB to 3.8 MB, 824:1\)\. "
                                        "Zip the images again"):
        load_images(blanks, name="blanks.zip")
    # one blank 1024×1024 BMP (3 MB, 1,000:1) among pictures is skipped, the rest are used
    data = load_images(make_zip({"a.png": png(), "b.png": png(color=BLUE),
                                 "big.bmp": bmp((1024, 1024))}), name="x.zip")
    assert data.report.used == 2
    assert dict(data.report.skipped)["big.bmp"].startswith(
        "too large: it unpacks from 3.03 KB to 3 MB, more than the 100:1 compression genlib reads")
    # a gzip IDX file of blank images stops unpacking at 100 times its size
    packed = gzip.compress(idx_header((3000, 28, 28)) + bytes(3000 * 28 * 28), 9)
    with pytest.raises(DataError, match=r"Compression ratio .* \(x.gz unpacks from .* to more than "
                                        r"1 MB, more than \d+:1\)"):
        load_images(packed, name="x.gz")


def test_ordinary_data_loads_the_same_on_a_shared_server(tmp_path, monkeypatch):
    blob = make_zip(class_files())
    x = BASE[:5, :, :12, 0]
    (tmp_path / "my-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx(x, 0x08)))
    sources = [(blob, "pets.zip"), (npz(images=BASE, labels=np.arange(6) % 2), "a.npz"),
               (npy(BASE), "a.npy"), (tmp_path / "my-images-idx3-ubyte.gz", None)]
    local = [load_images(s, name=n) for s, n in sources]
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    for (source, name), before in zip(sources, local):
        after = load_images(source, name=name)
        assert torch.equal(after.images, before.images) and after.report.lines() == before.report.lines()
