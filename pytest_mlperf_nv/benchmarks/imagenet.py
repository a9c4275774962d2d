"""ImageNet 2012 validation set for ``resnet50``: MLPerf preprocessing, a cached dataset, synthetic data.

Preprocessing follows the MLPerf reference (``pre_process_vgg`` in mlcommons/inference
``vision/classification_and_detection/python/dataset.py``):

1. decode to RGB (8 bit per channel);
2. resize keeping the aspect ratio so that the shorter side is ``int(100 * 224 / 87.5)`` = 256
   (the longer side is ``int(256 * long / short)``, truncated);
3. centre crop 224 x 224 (offsets ``int((size - 224) / 2)``, i.e. rounded down);
4. float32, minus the per-channel means R 123.68, G 116.78, B 103.94 (no scaling by a std);
5. NCHW (``3, 224, 224``, what the reference feeds the ONNX model) or NHWC (``224, 224, 3``),
   cast to the requested dtype at the very end.

Differences from the reference, which decodes and resizes with OpenCV (no OpenCV dependency
here: Pillow decodes, numpy resizes):

* The resize reimplements ``cv2.INTER_AREA`` (:func:`resize_crop_area`): for downscaling (nearly
  every ImageNet validation image) each output pixel is the overlap-weighted mean of the source
  pixels it covers, with OpenCV's weight table; it is computed in float64 and rounded half up,
  where OpenCV uses float32 or fixed point, so a value can differ by one unit at near-ties
  (measured against opencv-python-headless 5.0: at most 1 unit, on about 1e-5 of the values).
  Upscaling (a short side under 256) follows OpenCV's INTER_AREA upscale rule (a two-tap linear
  blend) in float; OpenCV computes it in 11-bit fixed point, so about 10 % of values differ by one
  unit there. Pillow's own ``Image.BOX`` filter is not used: it is not an area average for
  non-integer ratios (mean 3 units, up to 27, from INTER_AREA on noisy test images).
  Only the 224 x 224 window of the resized image is computed.
* Decoding uses Pillow (libjpeg-turbo; measured bit-identical to ``cv2.imread`` on test JPEGs)
  and applies the EXIF orientation tag, as ``cv2.imread`` does by default. Grayscale and CMYK
  images are converted to RGB with ``Image.convert("RGB")`` (OpenCV's CMYK conversion may differ).
* int8 input (quantized engines) is not supported yet: ``dtype`` is float32 or float16.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import ArrayDataset, DatasetContext
from ..errors import ProvisionError
from ..provision.download import file_sha256
from ..provision.progress import Progress

#: bump when the output of :func:`preprocess_image` changes for the same input
PREPROCESS_VERSION = 1
IMAGE_SIZE = 224
#: the reference's resize_with_aspectratio(scale=87.5): shorter side 224 / 0.875 = 256
RESIZE_SCALE_PERCENT = 87.5
RESIZE_SHORT_SIDE = int(100.0 * IMAGE_SIZE / RESIZE_SCALE_PERCENT)
MEANS_RGB = (123.68, 116.78, 103.94)
LAYOUTS = ("NCHW", "NHWC")
DTYPES = ("float32", "float16")
#: the resize method (see the module docstring)
RESAMPLE = "cv2-inter-area"
VAL_MAP = "val_map.txt"
DATASET_FILE = "imagenet.npy"
#: LoadGen's performance sample count for resnet50 (mlperf.conf: performance_sample_count_override)
PERFORMANCE_COUNT = 1024
SYNTHETIC_COUNT = 256
SYNTHETIC_SEED = 0

MISSING_DATA_HELP = (
    "resnet50 accuracy/performance on ImageNet needs {root}/val_map.txt and the 50,000 validation "
    "JPEGs; set --mlperf-data-dir (or MLPERF_NV_DATA_DIR, ini mlperf_data_dir) to a directory "
    "holding imagenet/, or use 'dataset: synthetic' for a performance-only run"
)


def _check_format(layout: str, dtype: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"layout {layout!r} is not supported; use one of {', '.join(LAYOUTS)}")
    if dtype not in DTYPES:
        extra = " (int8 input is not supported yet)" if dtype == "int8" else ""
        raise ValueError(f"dtype {dtype!r} is not supported{extra}; use one of {', '.join(DTYPES)}")


def sample_shape(layout: str = "NCHW") -> tuple[int, int, int]:
    """Shape of one preprocessed image in ``layout``."""
    return (3, IMAGE_SIZE, IMAGE_SIZE) if layout == "NCHW" else (IMAGE_SIZE, IMAGE_SIZE, 3)


def _resized_size(width: int, height: int) -> tuple[int, int]:
    # Same arithmetic as the reference's resize_with_aspectratio (height > width: portrait).
    if height > width:
        return RESIZE_SHORT_SIDE, int(RESIZE_SHORT_SIDE * height / width)
    return int(RESIZE_SHORT_SIDE * width / height), RESIZE_SHORT_SIDE


def _axis_weights(src: int, dst: int, start: int, count: int, area: bool) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and weights (``count`` x K) of outputs ``start .. start+count-1`` along one axis.

    ``area`` (downscaling) uses OpenCV's INTER_AREA table (``computeResizeAreaTab``): each
    output pixel is the mean of the source interval ``[i * s, (i + 1) * s)``, ``s = src / dst``,
    partial pixels weighted by their overlap (overlaps under 1e-3 dropped, like OpenCV).
    Otherwise (upscaling) it uses OpenCV's INTER_AREA upscale rule: a linear blend of two neighbours with the
    fraction ``fx = (i + 1) - (floor(i * s) + 1) / s`` (0 when that is <= 0, else its fractional part).
    """
    scale = src / dst
    rows: list[list[tuple[int, float]]] = []
    for dx in range(start, start + count):
        taps: list[tuple[int, float]] = []
        if area:
            fsx1 = dx * scale
            fsx2 = fsx1 + scale
            cell = min(scale, src - fsx1)
            sx2 = min(int(np.floor(fsx2)), src - 1)
            sx1 = min(int(np.ceil(fsx1)), sx2)
            if sx1 - fsx1 > 1e-3:
                taps.append((sx1 - 1, (sx1 - fsx1) / cell))
            taps += [(sx, 1.0 / cell) for sx in range(sx1, sx2)]
            if fsx2 - sx2 > 1e-3:
                taps.append((sx2, min(min(fsx2 - sx2, 1.0), cell) / cell))
        else:
            sx = int(np.floor(dx * scale))
            fx = (dx + 1) - (sx + 1) / scale
            fx = 0.0 if fx <= 0 else fx - np.floor(fx)
            if sx < 0:
                sx, fx = 0, 0.0
            if sx >= src - 1:
                sx, fx = src - 1, 0.0
            taps = [(sx, 1.0 - fx), (min(sx + 1, src - 1), fx)]
        rows.append(taps)
    k = max(len(t) for t in rows)
    index = np.zeros((count, k), dtype=np.intp)
    weight = np.zeros((count, k), dtype=np.float64)
    for i, taps in enumerate(rows):
        for j, (sx, w) in enumerate(taps):
            index[i, j], weight[i, j] = sx, w
    return index, weight


def resize_crop_area(pixels: np.ndarray, new_w: int, new_h: int, left: int, top: int,
                     size: int = IMAGE_SIZE) -> np.ndarray:
    """Resize uint8 ``pixels`` (H, W, C) to ``new_w`` x ``new_h`` like ``cv2.INTER_AREA`` and return
    only the ``size`` x ``size`` window at (``left``, ``top``) of the result, as uint8.

    Computed in float64 and rounded half up (OpenCV's own fixed-point/float32 arithmetic can
    differ by one unit at near-ties).
    """
    height, width = pixels.shape[:2]
    if new_w == width and new_h == height:
        return np.ascontiguousarray(pixels[top:top + size, left:left + size])
    area = new_w <= width and new_h <= height  # OpenCV takes the area path only if both shrink
    iy, wy = _axis_weights(height, new_h, top, size, area)
    ix, wx = _axis_weights(width, new_w, left, size, area)
    rows = (pixels[iy].astype(np.float64) * wy[:, :, None, None]).sum(axis=1)  # (size, W, C)
    out = (rows[:, ix] * wx[None, :, :, None]).sum(axis=2)  # (size, size, C)
    return np.clip(np.floor(out + (0.5 + 1e-9)), 0, 255).astype(np.uint8)


def preprocess_image(path: Path, *, layout: str = "NCHW", dtype: str = "float32") -> np.ndarray:
    """Decode, resize, crop and normalize one image the MLPerf ResNet50 way (see the module doc).

    Returns an array of shape ``(3, 224, 224)`` (NCHW) or ``(224, 224, 3)`` (NHWC) in ``dtype``.
    Raises ValueError for an unsupported layout or dtype (int8 included), and whatever Pillow
    raises (OSError, ``PIL.UnidentifiedImageError``) for an unreadable image.
    """
    from PIL import Image, ImageOps

    _check_format(layout, dtype)
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened)
        pixels = np.asarray(image.convert("RGB"))
    height, width = pixels.shape[:2]
    new_w, new_h = _resized_size(width, height)
    left = int((new_w - IMAGE_SIZE) / 2)
    top = int((new_h - IMAGE_SIZE) / 2)
    crop = resize_crop_area(pixels, new_w, new_h, left, top)
    out = crop.astype(np.float32) - np.array(MEANS_RGB, dtype=np.float32)
    if layout == "NCHW":
        out = out.transpose(2, 0, 1)
    return np.ascontiguousarray(out, dtype=np.dtype(dtype))


def _read_val_map(path: Path, count: int | None) -> list[tuple[str, int, int, str]]:
    """``(image name, label, line number, line text)`` of the first ``count`` entries."""
    entries: list[tuple[str, int, int, str]] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if count is not None and len(entries) >= count:
                break
            cols = line.split()
            if not cols:
                continue
            try:
                if len(cols) != 2:
                    raise ValueError
                entries.append((cols[0], int(cols[1]), lineno, line.rstrip("\n")))
            except ValueError:
                raise ProvisionError(f"{path}:{lineno}: expected '<image file name> <integer label>', "
                                     f"got {line.rstrip()!r:.120}") from None
    if not entries:
        raise ProvisionError(f"{path} lists no images")
    return entries


class ImageNetDataset:
    """ImageNet validation images listed in ``<root>/val_map.txt``, preprocessed once and cached.

    Images are looked up in ``<root>/`` and then ``<root>/val/``. ``count`` keeps only the
    first N lines of val_map.txt. The preprocessed tensors of all images are built into one
    ``.npy`` in the plugin cache (keyed by the val_map's sha256, the image directory, count,
    layout, dtype and the preprocessing version) and read back memory-mapped; ``load`` copies
    the samples LoadGen asks for into memory so that timed runs do not read the disk.
    """

    def __init__(self, root: Path, cache_dir: Path, *, count: int | None = None, layout: str = "NCHW",
                 dtype: str = "float32", performance_count: int | None = None,
                 workers: int | None = None, verify: bool = False):
        from ..provision.cache import Cache

        _check_format(layout, dtype)
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ProvisionError(f"imagenet option count must be a positive integer, got {count!r}")
        self.root = Path(root).expanduser().absolute()
        self.layout = layout
        self.dtype = dtype
        val_map = self.root / VAL_MAP
        if not val_map.is_file():
            raise ProvisionError(f"{val_map} is missing. " + MISSING_DATA_HELP.format(root=self.root))
        self.entries = _read_val_map(val_map, count)
        self.image_names = [name for name, _, _, _ in self.entries]
        self._labels = np.array([label for _, label, _, _ in self.entries], dtype=np.int64)
        self.total_count = len(self.entries)
        self.performance_count = min(self.total_count, performance_count or PERFORMANCE_COUNT)
        parts: dict[str, Any] = {
            "dataset": "imagenet",
            "val_map_sha256": file_sha256(val_map),
            "root": str(self.root),
            "count": count,
            "layout": layout,
            "dtype": dtype,
            "preprocess_version": PREPROCESS_VERSION,
            "resample": RESAMPLE,
        }
        self._workers = workers
        self.cache_entry = Cache(cache_dir).get_or_build("dataset", parts, self._build, verify=verify)
        self.path = self.cache_entry.file(DATASET_FILE)
        self._data = np.load(self.path, mmap_mode="r")
        expected = (self.total_count, *sample_shape(layout))
        if self._data.shape != expected or self._data.dtype != np.dtype(dtype):
            raise ProvisionError(f"cached dataset {self.path} holds {self._data.shape} {self._data.dtype}, "
                                 f"expected {expected} {dtype}; delete it to rebuild")
        self._loaded: dict[int, np.ndarray] = {}

    def _image_path(self, name: str, lineno: int, line: str) -> Path:
        for folder in (self.root, self.root / "val"):
            candidate = folder / name
            if candidate.is_file():
                return candidate
        raise ProvisionError(
            f"image {name!r} named on line {lineno} of {self.root / VAL_MAP} ({line.strip()!r}) is "
            f"missing: looked for {self.root / name} and {self.root / 'val' / name}"
        )

    def _build(self, staging: Path) -> None:
        # Resolve every path first, so that a missing image fails before minutes of work.
        paths = [self._image_path(name, lineno, line) for name, _, lineno, line in self.entries]
        out = np.lib.format.open_memmap(staging / DATASET_FILE, mode="w+", dtype=np.dtype(self.dtype),
                                        shape=(len(paths), *sample_shape(self.layout)))

        def one(i: int) -> None:
            try:
                out[i] = preprocess_image(paths[i], layout=self.layout, dtype=self.dtype)
            except OSError as exc:  # PIL.UnidentifiedImageError is an OSError too
                _, _, lineno, line = self.entries[i]
                raise ProvisionError(f"cannot read image {paths[i]} (line {lineno} of "
                                     f"{self.root / VAL_MAP}: {line.strip()!r}): {exc}") from exc

        # Pillow releases the GIL while decoding and resizing, so threads scale.
        workers = self._workers or min(32, os.cpu_count() or 1)
        label = f"preprocessing {len(paths)} ImageNet images ({self.layout}, {self.dtype})"
        # Progress goes to the real stderr: pytest captures sys.stderr during fixtures.
        with Progress(label, len(paths), unit="images", stream=sys.__stderr__,
                      quiet=len(paths) < 1000) as progress:
            if workers <= 1:
                for i in range(len(paths)):
                    one(i)
                    progress.update(1)
            else:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    for _ in pool.map(one, range(len(paths))):
                        progress.update(1)
        out.flush()

    # -- Dataset protocol ---------------------------------------------------------------
    def load(self, indices: list[int]) -> None:
        for i in indices:
            if i not in self._loaded:
                self._loaded[i] = np.array(self._data[i])

    def unload(self, indices: list[int]) -> None:
        for i in indices:
            self._loaded.pop(i, None)

    def get(self, indices: list[int]) -> np.ndarray:
        loaded = self._loaded
        return np.stack([loaded[i] if i in loaded else self._data[i] for i in indices])

    def labels(self) -> np.ndarray | None:
        return self._labels


def _option_int(options: dict, name: str, default: int | None) -> int | None:
    value = options.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ProvisionError(f"imagenet option {name} must be a positive integer, got {value!r}")
    return value


def _option_format(options: dict) -> tuple[str, str]:
    layout = options.get("layout", "NCHW")
    dtype = options.get("dtype", "float32")
    try:
        _check_format(layout, dtype)
    except ValueError as exc:
        raise ProvisionError(f"imagenet option: {exc}") from None
    return layout, dtype


def imagenet_dataset(context: DatasetContext) -> ImageNetDataset:
    """The real ImageNet validation set (options: root, count, layout, dtype, performance_count)."""
    options = context.options or {}
    layout, dtype = _option_format(options)
    count = _option_int(options, "count", None)
    performance_count = _option_int(options, "performance_count", None)
    if options.get("root"):
        root = Path(options["root"]).expanduser()
    elif context.data_dir is not None:
        root = Path(context.data_dir) / "imagenet"
    else:
        raise ProvisionError("no MLPerf data directory is set. "
                             + MISSING_DATA_HELP.format(root="<data dir>/imagenet"))
    if not root.is_dir():
        raise ProvisionError(f"ImageNet directory {root} is missing. " + MISSING_DATA_HELP.format(root=root))
    return ImageNetDataset(root, context.cache_dir, count=count, layout=layout, dtype=dtype,
                           performance_count=performance_count, verify=context.verify)


def synthetic_imagenet_dataset(context: DatasetContext) -> ArrayDataset:
    """Seeded random images shaped like the real preprocessing output; performance only (no labels).

    Options: count (default 256), layout, dtype, seed. Values are random 8-bit pixels minus the
    channel means, so they cover the same range as real preprocessed images.
    """
    options = context.options or {}
    layout, dtype = _option_format(options)
    count = _option_int(options, "count", SYNTHETIC_COUNT) or SYNTHETIC_COUNT
    seed = options.get("seed", SYNTHETIC_SEED)
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(count, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    inputs = pixels.astype(np.float32) - np.array(MEANS_RGB, dtype=np.float32)
    if layout == "NCHW":
        inputs = inputs.transpose(0, 3, 1, 2)
    return ArrayDataset(np.ascontiguousarray(inputs, dtype=np.dtype(dtype)), None)
