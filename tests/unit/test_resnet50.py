"""resnet50: ImageNet preprocessing, the cached ImageNet dataset, accuracy scoring, the random model."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

from pytest_mlperf_nv.accuracy.classification import read_val_map, top1  # noqa: E402
from pytest_mlperf_nv.benchmarks import imagenet  # noqa: E402
from pytest_mlperf_nv.benchmarks.imagenet import (  # noqa: E402
    ImageNetDataset,
    imagenet_dataset,
    preprocess_image,
    synthetic_imagenet_dataset,
)
from pytest_mlperf_nv.benchmarks.resnet50 import resnet50_response  # noqa: E402
from pytest_mlperf_nv.benchmarks.resnet50_model import (  # noqa: E402
    build_random_resnet50,
    find_resnet50_model,
)
from pytest_mlperf_nv.datasets import DatasetContext  # noqa: E402
from pytest_mlperf_nv.errors import ProvisionError  # noqa: E402

MEANS = np.array([123.68, 116.78, 103.94], dtype=np.float32)


def _noise_image(width: int, height: int, seed: int, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    # smooth-ish content (a gradient plus noise) so that JPEG keeps some structure
    yy, xx = np.mgrid[0:height, 0:width]
    base = (xx * 255 // max(width - 1, 1) + yy * 255 // max(height - 1, 1)) // 2
    if mode == "L":
        pixels = np.clip(base + rng.integers(-40, 40, (height, width)), 0, 255).astype(np.uint8)
        return Image.fromarray(pixels, mode="L")
    pixels = np.clip(base[..., None] + rng.integers(-60, 60, (height, width, 3)), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, mode="RGB")


def _overlaps(src: int, dst: int) -> np.ndarray:
    """Exact integer overlaps (dst, src): source pixel j is [j*dst, (j+1)*dst), output i is
    [i*src, (i+1)*src)."""
    i, j = np.arange(dst)[:, None], np.arange(src)[None, :]
    return np.clip(np.minimum((j + 1) * dst, (i + 1) * src) - np.maximum(j * dst, i * src), 0, None)


def _upscale_weights(src: int, dst: int) -> np.ndarray:
    """OpenCV's INTER_AREA upscale rule as a dense (dst, src) matrix, vectorized."""
    scale = src / dst
    dx = np.arange(dst)
    sx = np.floor(dx * scale).astype(int)
    fx = (dx + 1) - (sx + 1) / scale
    fx = np.where(fx <= 0, 0.0, fx - np.floor(fx))
    last = sx >= src - 1
    sx, fx = np.where(last, src - 1, sx), np.where(last, 0.0, fx)
    m = np.zeros((dst, src))
    m[dx, sx] += 1 - fx
    m[dx, np.minimum(sx + 1, src - 1)] += fx
    return m


_EXPECTED_CROPS: dict[Path, np.ndarray] = {}


def _expected_crop(path: Path) -> np.ndarray:
    """Independent computation of the uint8 224x224 crop: sizes by integer arithmetic, exact rational
    area averages (rounded half up) by integer matrix products, crop by numpy slicing."""
    if path in _EXPECTED_CROPS:
        return _EXPECTED_CROPS[path]
    with Image.open(path) as im:
        rgb = np.array(im.convert("RGB"), dtype=np.int64)
    h, w, _ = rgb.shape
    short = 224 * 1000 // 875  # 256
    if h > w:
        new_w, new_h = short, short * h // w
    else:
        new_w, new_h = short * w // h, short
    top, left = (new_h - 224) // 2, (new_w - 224) // 2
    if new_w <= w and new_h <= h:
        rows = (_overlaps(h, new_h)[top:top + 224] @ rgb.reshape(h, w * 3)).reshape(224, w, 3)
        num = np.tensordot(rows, _overlaps(w, new_w)[left:left + 224], axes=([1], [1])).transpose(0, 2, 1)
        den = h * w
        crop = (2 * num + den) // (2 * den)
    else:
        my, mx = _upscale_weights(h, new_h), _upscale_weights(w, new_w)
        rows = (my @ rgb.reshape(h, w * 3).astype(np.float64)).reshape(new_h, w, 3)
        full = np.tensordot(rows, mx, axes=([1], [1])).transpose(0, 2, 1)
        crop = np.floor(full[top:top + 224, left:left + 224] + 0.5 + 1e-9)
    _EXPECTED_CROPS[path] = crop.astype(np.uint8)
    return _EXPECTED_CROPS[path]


def _expected(path: Path, layout: str, dtype: str) -> np.ndarray:
    crop = _expected_crop(path).astype(np.float32)
    out = np.empty_like(crop)
    for c in range(3):
        out[:, :, c] = crop[:, :, c] - MEANS[c]
    if layout == "NCHW":
        out = np.stack([out[:, :, c] for c in range(3)])
    return out.astype(dtype)


# (width, height): landscape (odd crop margin), portrait, 2x (integer ratio), small (upscaled), square
SIZES = {"landscape": (500, 375), "portrait": (300, 450), "double": (602, 512), "small": (100, 80),
         "square": (240, 240)}


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("images")
    paths = {}
    for i, (name, (w, h)) in enumerate(SIZES.items()):
        paths[name] = root / f"{name}.JPEG"
        _noise_image(w, h, i).save(paths[name], quality=90)
    paths["gray"] = root / "gray.JPEG"
    _noise_image(260, 300, 9, mode="L").save(paths["gray"], quality=90)
    return paths


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("name", [*SIZES, "gray"])
def test_preprocess_matches_independent_computation(images, name, layout, dtype):
    got = preprocess_image(images[name], layout=layout, dtype=dtype)
    assert got.dtype == np.dtype(dtype)
    assert got.shape == ((3, 224, 224) if layout == "NCHW" else (224, 224, 3))
    assert got.flags.c_contiguous
    np.testing.assert_array_equal(got, _expected(images[name], layout, dtype))


def test_preprocess_without_resampling_is_exact_crop_minus_means(tmp_path):
    # short side already 256 -> no resampling; compare with the generated pixels directly (PNG)
    pixels = np.random.default_rng(3).integers(0, 256, (256, 301, 3), dtype=np.uint8)
    path = tmp_path / "exact.png"
    Image.fromarray(pixels).save(path)
    got = preprocess_image(path, layout="NHWC")
    left = (301 - 224) // 2  # 38: int(38.5) in the reference
    np.testing.assert_array_equal(got, pixels[16:240, left:left + 224].astype(np.float32) - MEANS)


def test_preprocess_gray_becomes_three_equal_channels(images):
    got = preprocess_image(images["gray"], layout="NCHW").astype(np.float64)
    raw = got + MEANS[:, None, None].astype(np.float64)
    np.testing.assert_allclose(raw[0], raw[1], atol=1e-4)
    np.testing.assert_allclose(raw[0], raw[2], atol=1e-4)
    assert np.allclose(raw, np.round(raw), atol=1e-4) and raw.min() > -1e-3 and raw.max() < 255 + 1e-3


def test_preprocess_applies_exif_orientation(tmp_path):
    image = _noise_image(400, 300, 5)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    tagged, upright = tmp_path / "tagged.png", tmp_path / "upright.png"
    image.save(tagged, exif=exif)
    image.transpose(Image.Transpose.ROTATE_270).save(upright)
    np.testing.assert_array_equal(preprocess_image(tagged), preprocess_image(upright))


@pytest.mark.parametrize("dtype", ["int8", "float64", "uint8"])
def test_preprocess_rejects_unsupported_dtypes(images, dtype):
    with pytest.raises(ValueError, match="float32, float16"):
        preprocess_image(images["small"], dtype=dtype)


def test_preprocess_rejects_unknown_layout(images):
    with pytest.raises(ValueError, match="NCHW, NHWC"):
        preprocess_image(images["small"], layout="CHW")


# -- ImageNet-format trees ------------------------------------------------------------------

def _make_tree(root: Path, labels: list[int], *, subdir: str | None = "val") -> list[str]:
    folder = root / subdir if subdir else root
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, _ in enumerate(labels):
        name = f"ILSVRC2012_val_{i + 1:08d}.JPEG"
        w, h = [(64, 48), (40, 70), (90, 90)][i % 3]
        _noise_image(w, h, 100 + i).save(folder / name, quality=85)
        names.append(name)
    (root / "val_map.txt").write_text("".join(f"{n} {lab}\n" for n, lab in zip(names, labels, strict=True)))
    return names


def _context(tmp_path: Path, data_dir: Path | None, **options) -> DatasetContext:
    return DatasetContext(data_dir=data_dir, cache_dir=tmp_path / "cache", options=options)


def test_imagenet_dataset_counts_labels_and_samples(tmp_path):
    labels = [5, 999, 0, 17, 42, 3]
    names = _make_tree(tmp_path / "data" / "imagenet", labels)
    ds = imagenet_dataset(_context(tmp_path, tmp_path / "data"))
    assert ds.total_count == 6 and ds.performance_count == 6
    np.testing.assert_array_equal(ds.labels(), labels)
    assert list(ds.labels()) == read_val_map(tmp_path / "data" / "imagenet" / "val_map.txt")
    batch = ds.get([4, 1])
    assert batch.shape == (2, 3, 224, 224) and batch.dtype == np.float32
    folder = tmp_path / "data" / "imagenet" / "val"
    np.testing.assert_array_equal(batch[0], preprocess_image(folder / names[4]))
    np.testing.assert_array_equal(batch[1], preprocess_image(folder / names[1]))
    ds.load([0, 1, 2])
    np.testing.assert_array_equal(ds.get([1, 5]), np.stack([ds._data[1], ds._data[5]]))
    ds.unload([0, 1, 2])
    assert ds.get([2]).shape == (1, 3, 224, 224)


def test_imagenet_dataset_is_cached(tmp_path):
    _make_tree(tmp_path / "imagenet", [1, 2, 3, 4], subdir=None)  # images next to val_map.txt
    first = imagenet_dataset(_context(tmp_path, tmp_path))
    assert first.cache_entry.hit is False
    second = imagenet_dataset(_context(tmp_path, tmp_path))
    assert second.cache_entry.hit is True and second.path == first.path
    np.testing.assert_array_equal(second.get([0, 3]), first.get([0, 3]))
    # count, layout and dtype are part of the key
    head = imagenet_dataset(_context(tmp_path, tmp_path, count=2, layout="NHWC", dtype="float16"))
    assert head.cache_entry.hit is False and head.path != first.path
    assert head.total_count == 2 and list(head.labels()) == [1, 2]
    assert head.get([1]).shape == (1, 224, 224, 3) and head.get([1]).dtype == np.float16
    np.testing.assert_array_equal(head.get([1])[0], first.get([1])[0].transpose(1, 2, 0).astype(np.float16))


def test_imagenet_dataset_serial_build_matches_threaded(tmp_path):
    _make_tree(tmp_path / "imagenet", [4, 5, 6, 7, 8])
    threaded = ImageNetDataset(tmp_path / "imagenet", tmp_path / "cache-a", workers=4)
    serial = ImageNetDataset(tmp_path / "imagenet", tmp_path / "cache-b", workers=1, performance_count=3)
    assert serial.performance_count == 3 and threaded.performance_count == 5
    np.testing.assert_array_equal(np.load(serial.path), np.load(threaded.path))


def test_imagenet_bad_val_map_line(tmp_path):
    _make_tree(tmp_path / "imagenet", [1, 2])
    with open(tmp_path / "imagenet" / "val_map.txt", "a") as f:
        f.write("broken.JPEG notalabel\n")
    with pytest.raises(ProvisionError, match=r"val_map.txt:3: expected '<image file name> <integer label>'"):
        imagenet_dataset(_context(tmp_path, tmp_path))
    assert imagenet_dataset(_context(tmp_path, tmp_path, count=2)).total_count == 2


def test_imagenet_dataset_explicit_root_option(tmp_path):
    _make_tree(tmp_path / "elsewhere", [7, 8])
    ds = imagenet_dataset(_context(tmp_path, None, root=str(tmp_path / "elsewhere")))
    assert ds.total_count == 2 and list(ds.labels()) == [7, 8]


def test_imagenet_missing_image_names_file_and_line(tmp_path):
    names = _make_tree(tmp_path / "imagenet", [1, 2, 3])
    (tmp_path / "imagenet" / "val" / names[1]).unlink()
    with pytest.raises(ProvisionError) as info:
        imagenet_dataset(_context(tmp_path, tmp_path))
    message = str(info.value)
    assert names[1] in message and "line 2" in message and f"{names[1]} 2" in message
    # nothing half-built was left in the cache
    assert not list((tmp_path / "cache" / "entries").glob("dataset/*"))


@pytest.mark.parametrize("case", ["no data dir", "no imagenet dir", "no val_map"])
def test_imagenet_missing_data_says_how_to_provide_it(tmp_path, case):
    data_dir = None if case == "no data dir" else tmp_path / "data"
    if case == "no val_map":
        (tmp_path / "data" / "imagenet").mkdir(parents=True)
    with pytest.raises(ProvisionError) as info:
        imagenet_dataset(_context(tmp_path, data_dir))
    message = str(info.value)
    for needle in ("val_map.txt", "50,000 validation JPEGs", "--mlperf-data-dir", "MLPERF_NV_DATA_DIR",
                   "mlperf_data_dir", "dataset: synthetic"):
        assert needle in message, (needle, message)
    if case != "no data dir":
        assert str(tmp_path / "data" / "imagenet") in message


def test_imagenet_bad_options(tmp_path):
    _make_tree(tmp_path / "imagenet", [1])
    with pytest.raises(ProvisionError, match="int8 input is not supported yet"):
        imagenet_dataset(_context(tmp_path, tmp_path, dtype="int8"))
    with pytest.raises(ProvisionError, match="count"):
        imagenet_dataset(_context(tmp_path, tmp_path, count=0))


# -- accuracy ---------------------------------------------------------------------------------

def _write_accuracy_log(path: Path, rows: np.ndarray, order: list[int]) -> None:
    lines = [f'{{ "seq_id" : {seq}, "qsl_idx" : {idx}, "data" : "{rows[idx].tobytes().hex().upper()}" }}'
             for seq, idx in enumerate(order)]
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n")


def _outputs(kind: str, predictions: np.ndarray) -> np.ndarray:
    n = len(predictions)
    if kind == "int-argmax-1001":
        return (predictions + 1).astype(np.int64)  # the official model's ArgMax:0
    width = 1000 if kind == "logits-1000" else 1001
    logits = np.random.default_rng(0).standard_normal((n, width)).astype(np.float32)
    logits[np.arange(n), predictions + (width - 1000)] = 10.0
    return logits


@pytest.mark.parametrize("kind", ["logits-1000", "logits-1001", "int-argmax-1001"])
def test_accuracy_k_of_n(tmp_path, kind):
    labels = [3, 999, 0, 500, 7, 7, 1, 250]
    _make_tree(tmp_path / "imagenet", labels)
    ds = imagenet_dataset(_context(tmp_path, tmp_path))
    truth = ds.labels()
    right = {0, 2, 3, 6, 7}  # k = 5 of n = 8
    predictions = np.array([lab if i in right else (lab + 1) % 1000 for i, lab in enumerate(truth)])
    rows = resnet50_response(_outputs(kind, predictions))
    assert rows.dtype == np.int32 and rows.shape == (8, 1)
    log = tmp_path / "mlperf_log_accuracy.json"
    _write_accuracy_log(log, rows, [5, 0, 7, 1, 2, 6, 3, 4])
    assert '"qsl_idx" : 3, "data" : "F4010000"' in log.read_text()  # 500, int32 little-endian
    result = top1(log, truth)
    assert (result.good, result.total) == (len(right), len(labels))
    assert result.accuracy == pytest.approx(5 / 8)
    assert {idx for idx, _, _ in result.wrong} == set(range(8)) - right


# -- resnet50_response ------------------------------------------------------------------------

def test_response_kinds():
    logits = np.zeros((3, 1000), np.float32)
    logits[[0, 1, 2], [0, 999, 421]] = 1
    np.testing.assert_array_equal(resnet50_response(logits), [[0], [999], [421]])
    tf = np.zeros((3, 1001), np.float32)
    tf[[0, 1, 2], [1, 1000, 0]] = 1
    np.testing.assert_array_equal(resnet50_response(tf), [[0], [999], [-1]])
    np.testing.assert_array_equal(resnet50_response(np.array([1, 1000, 422], np.int64)), [[0], [999], [421]])
    np.testing.assert_array_equal(resnet50_response(np.array([[5], [6]], np.int32)), [[4], [5]])
    # conv-head logits (N, 1000, 1, 1) and (ArgMax, softmax) output lists
    np.testing.assert_array_equal(resnet50_response(logits[:, :, None, None]), [[0], [999], [421]])
    np.testing.assert_array_equal(resnet50_response([np.array([3, 4]), np.zeros((2, 1001))]), [[2], [3]])
    for rows in (resnet50_response(logits), resnet50_response(np.array([1], np.int64))):
        assert rows.dtype == np.int32 and rows.ndim == 2 and rows.shape[1] == 1
    with pytest.raises(ValueError, match="1000"):
        resnet50_response(np.zeros((2, 10), np.float32))


# -- models -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def random_model(tmp_path_factory) -> Path:
    staging = tmp_path_factory.mktemp("model")
    assert build_random_resnet50(staging) == "resnet50-v1.5-random.onnx"
    return staging / "resnet50-v1.5-random.onnx"


def test_random_resnet50_is_valid_and_deterministic(random_model, tmp_path):
    import onnx

    model = onnx.load(str(random_model))
    onnx.checker.check_model(model)
    assert model.ir_version == 10 and model.opset_import[0].version == 17
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Conv") == 53 and ops.count("Add") == 16 and ops.count("MaxPool") == 1
    params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    assert 25_000_000 < params < 26_000_000
    # v1.5: the stride-2 conv of each downsampling bottleneck is the 3x3 one
    strided = [(n.name, list(a.ints)) for n in model.graph.node if n.op_type == "Conv"
               for a in n.attribute if a.name == "strides" and list(a.ints) == [2, 2]]
    kernels = {n.name: list(a.ints) for n in model.graph.node if n.op_type == "Conv"
               for a in n.attribute if a.name == "kernel_shape"}
    assert sorted(kernels[name][0] for name, _ in strided) == [1, 1, 1, 3, 3, 3, 7]
    assert build_random_resnet50(tmp_path) == random_model.name
    digest = hashlib.sha256((tmp_path / random_model.name).read_bytes()).hexdigest()
    assert digest == hashlib.sha256(random_model.read_bytes()).hexdigest()


def test_random_resnet50_runs_on_onnxruntime(random_model, tmp_path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(random_model), options, providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    assert [o.name for o in session.get_outputs()] == ["logits"]
    batch = synthetic_imagenet_dataset(_context(tmp_path, None, count=2)).get([0, 1])
    (logits,) = session.run(None, {"input": batch})
    assert logits.shape == (2, 1000) and logits.dtype == np.float32
    assert np.isfinite(logits).all() and 0.01 < logits.std() < 100
    assert resnet50_response(logits).shape == (2, 1)


def test_find_resnet50_model(tmp_path, monkeypatch):
    monkeypatch.delenv("MLPERF_SCRATCH_PATH", raising=False)
    assert find_resnet50_model(None) is None
    assert find_resnet50_model(tmp_path) is None
    scratch = tmp_path / "scratch" / "models" / "ResNet50" / "resnet50_v1.onnx"
    scratch.parent.mkdir(parents=True)
    scratch.write_bytes(b"x")
    monkeypatch.setenv("MLPERF_SCRATCH_PATH", str(tmp_path / "scratch"))
    assert find_resnet50_model(None) == scratch
    nested = tmp_path / "data" / "models" / "ResNet50" / "resnet50_v1.onnx"
    nested.parent.mkdir(parents=True)
    nested.write_bytes(b"x")
    assert find_resnet50_model(tmp_path / "data") == nested
    top = tmp_path / "data" / "resnet50_v1.onnx"
    top.write_bytes(b"x")
    assert find_resnet50_model(tmp_path / "data") == top


# -- synthetic ----------------------------------------------------------------------------------

def test_synthetic_dataset(tmp_path):
    ds = synthetic_imagenet_dataset(_context(tmp_path, None))
    assert ds.total_count == 256 and ds.labels() is None
    assert ds.get([0, 255]).shape == (2, 3, 224, 224) and ds.get([0]).dtype == np.float32
    values = ds.get([0])
    assert values.min() >= -MEANS.max() and values.max() <= 255 - MEANS.min()
    again = synthetic_imagenet_dataset(_context(tmp_path, None))
    np.testing.assert_array_equal(again.inputs, ds.inputs)
    other = synthetic_imagenet_dataset(_context(tmp_path, None, seed=1, count=4))
    assert not np.array_equal(other.get([0]), ds.get([0]))
    nhwc = synthetic_imagenet_dataset(_context(tmp_path, None, count=3, layout="NHWC", dtype="float16"))
    assert nhwc.inputs.shape == (3, 224, 224, 3) and nhwc.inputs.dtype == np.float16
    assert nhwc.total_count == 3 and nhwc.labels() is None
    with pytest.raises(ProvisionError, match="float32, float16"):
        synthetic_imagenet_dataset(_context(tmp_path, None, dtype="int8"))


def test_module_constants_match_reference():
    assert imagenet.RESIZE_SHORT_SIDE == 256
    assert imagenet.MEANS_RGB == (123.68, 116.78, 103.94)
