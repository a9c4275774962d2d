"""The torch backend on the CPU: options, engine key, the pipelined SUT over one or several engines.

LoadGen's completion calls are recorded by a stand-in here, so the SUT's batching, ordering and
response bytes can be checked sample by sample; the real LoadGen drives it in the integration
tests. GPU-only parts (streams, CUDA graphs, pinned copies) are exercised by
tests/integration/test_torch_gpu.py on a machine with a GPU.
"""

from __future__ import annotations

import ctypes
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch backend needs torch: "
                            "pip install pytest-mlperf-nv[torch]")

from pytest_mlperf_nv.benchmarks import imagenet  # noqa: E402
from pytest_mlperf_nv.benchmarks.digits import build_digits_model, digits_dataset  # noqa: E402
from pytest_mlperf_nv.datasets import ArrayDataset, DatasetContext  # noqa: E402
from pytest_mlperf_nv.harness.loadgen.sut import PipelinedSUT  # noqa: E402
from pytest_mlperf_nv.harness.loadgen.torch_backend import TorchBackend, resolve_options  # noqa: E402
from pytest_mlperf_nv.harness.loadgen.torch_runtime import (  # noqa: E402
    DeviceEngine,
    SampleStore,
    buckets_for,
)


class FakeLoadGen:
    """LoadGen's completion API: records (id, response bytes) per completed sample."""

    def __init__(self) -> None:
        self.responses: dict[int, bytes] = {}
        self.calls = 0
        self.cond = threading.Condition()

    class QuerySampleResponse:
        def __init__(self, id: int, data: int, size: int):  # noqa: A002 - LoadGen's field name
            self.id, self.data, self.size = id, data, size

    def QuerySamplesComplete(self, responses: list) -> None:  # noqa: N802 - LoadGen's name
        with self.cond:
            self.calls += 1
            for r in responses:
                self.responses[r.id] = ctypes.string_at(r.data, r.size)
            self.cond.notify_all()

    def wait_for(self, count: int) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.responses) >= count, timeout=120)


def _argmax(out: np.ndarray) -> np.ndarray:
    return out.argmax(axis=1).astype(np.int32)


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ArrayDataset]:
    root = tmp_path_factory.mktemp("digits")
    model = root / build_digits_model(root)
    return model, digits_dataset(DatasetContext(None, root, {}))


def _expected(model: Path, dataset: ArrayDataset) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    x = dataset.get(list(range(dataset.total_count)))
    return session.run(None, {session.get_inputs()[0].name: x})[0].argmax(axis=1)


def test_options_resolve_to_the_cpu_defaults_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytest_mlperf_nv.harness.loadgen.torch_backend as tb

    monkeypatch.setattr(tb, "_visible_gpus", lambda: ())
    s = resolve_options({})
    assert (s["device"], s["precision"], s["compile"], s["channels_last"]) == ("cpu", "fp32", False, False)
    assert resolve_options({"device": "cuda"})["precision"] == "fp16"


@pytest.mark.parametrize("options,message", [
    ({"precision": "fp8"}, "precision must be one of fp32, fp16, bf16, got 'fp8'"),
    ({"device": "tpu"}, "device must be one of auto, cuda, cpu"),
    ({"gpus": 0}, "gpus must be a positive integer, got 0"),
    ({"stream": 2}, "unknown torch backend option(s) stream; known: channels_last"),
])
def test_bad_options_are_named(options: dict, message: str) -> None:
    with pytest.raises(ValueError) as info:
        resolve_options(options)
    assert message in str(info.value)


def test_the_backend_declares_the_knobs_and_options_it_honours() -> None:
    assert {"gpu_batch_size", "gpu_copy_streams", "gpu_inference_streams", "use_graphs", "use_deque_limit",
            "deque_timeout_usec", "start_from_device"} <= TorchBackend.knobs
    assert "end_on_device" not in TorchBackend.knobs  # LoadGen needs host responses
    assert TorchBackend.options["precision"] is str and TorchBackend.options["channels_last"] is bool


def test_the_engine_key_does_not_import_torch() -> None:
    code = ("import sys; from pytest_mlperf_nv.harness.loadgen.torch_backend import TorchBackend; "
            "key = TorchBackend.engine_key({'device': 'cpu'}); print(sorted(key), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False") and "'options'" in out and "'torch'" in out


def test_the_engine_key_changes_with_the_options() -> None:
    a = TorchBackend.engine_key({"device": "cpu"})
    assert a == TorchBackend.engine_key({"device": "cpu", "threads": 3})  # threads do not shape the engine
    assert a != TorchBackend.engine_key({"device": "cpu", "precision": "bf16"})


def test_buckets_per_scenario() -> None:
    assert buckets_for(1024, "Offline") == [1024]
    assert buckets_for(1, "SingleStream") == [1]
    assert buckets_for(48, "Server") == [1, 2, 4, 8, 16, 32, 40, 48]
    # a batch of 148 of 256 runs in 160, not 256
    assert [b for b in buckets_for(256, "Server") if b >= 128] == [128, 160, 192, 224, 256]


def _cpu_engine(model: Path, dataset: ArrayDataset, batch: int, buckets: list[int]) -> DeviceEngine:
    from pytest_mlperf_nv.harness.loadgen.torch_backend import load_model

    module, _ = load_model(model)
    example = dataset.get([0])
    return DeviceEngine(module, "cpu", precision="fp32", channels_last=False, compile=False, freezing=False,
                        dynamic_batch=False, graphs=False, raw=None, sample_shape=example.shape[1:],
                        sample_dtype=torch.float32, max_batch=batch, buckets=buckets, lanes=1, copy_streams=1)


@pytest.mark.parametrize("chunk", [0, 1], ids=["one Offline query", "one sample per query (Server)"])
def test_every_sample_completes_once_with_the_models_answer_over_two_engines(
        digits: tuple[Path, ArrayDataset], chunk: int) -> None:
    model, dataset = digits
    engines = [_cpu_engine(model, dataset, 32, [1, 2, 4, 8, 16, 32]) for _ in range(2)]
    store = SampleStore(dataset, raw=False, on_device=False)
    lg = FakeLoadGen()
    errors: list = []
    sut = PipelinedSUT(lg, engines, store, _argmax, 32, on_error=errors.append)
    n = dataset.total_count
    sut.load_samples(list(range(n)))
    order = np.random.default_rng(0).permutation(n)
    ids = (order + 1000).tolist()
    if chunk:
        for i, index in zip(ids, order.tolist(), strict=True):
            sut.issue_fast([i], [index])
    else:
        sut.issue_fast(ids, order.tolist())
    lg.wait_for(n)
    sut.stop()
    assert errors == []
    want = _expected(model, dataset)
    got = {i - 1000: int(np.frombuffer(b, dtype=np.int32)[0]) for i, b in lg.responses.items()}
    assert len(got) == n and all(got[k] == want[k] for k in range(n))
    assert sut.completed == n and sut.batches == lg.calls  # one completion call per batch
    if not chunk:
        assert sut.batches <= n // 32 + 2 * len(engines)  # large batches, not one call per sample


def test_singlestream_runs_in_the_issuing_thread(digits: tuple[Path, ArrayDataset]) -> None:
    model, dataset = digits
    engine = _cpu_engine(model, dataset, 1, [1])
    lg = FakeLoadGen()
    sut = PipelinedSUT(lg, [engine], SampleStore(dataset, raw=False, on_device=False), _argmax, 1,
                       on_error=pytest.fail, inline=True)
    sut.load_samples([3, 4])
    sut.issue_fast([7], [4])
    assert list(lg.responses) == [7]  # completed before issue_fast returned
    assert int(np.frombuffer(lg.responses[7], np.int32)[0]) == _expected(model, dataset)[4]
    sut.stop()


def test_a_sample_that_was_never_loaded_is_an_error_not_a_hang(digits: tuple[Path, ArrayDataset]) -> None:
    model, dataset = digits
    errors: list = []
    sut = PipelinedSUT(FakeLoadGen(), [_cpu_engine(model, dataset, 8, [8])],
                       SampleStore(dataset, raw=False, on_device=False), _argmax, 8, on_error=errors.append,
                       inline=True)
    sut.load_samples([0])
    sut.issue_fast([1], [5])
    assert len(errors) == 1 and "never loaded" in str(errors[0])


def test_the_sample_store_follows_load_and_unload() -> None:
    dataset = ArrayDataset(np.arange(20, dtype=np.float32).reshape(10, 2))
    store = SampleStore(dataset, raw=False, on_device=False)
    store.load([4, 2])
    store.load([7])
    assert store.loaded == 3 and store.host[store.rows(np.array([7, 4]))].tolist() == [[14, 15], [8, 9]]
    out = torch.empty((2, 2))
    store.gather(store.rows(np.array([2, 7])), out)
    assert out.tolist() == [[4, 5], [14, 15]]
    store.unload([4])
    assert store.loaded == 2 and store.rows(np.array([2, 7])).tolist() == [0, 1]
    with pytest.raises(RuntimeError, match=r"samples \[4\] that were never loaded"):
        store.rows(np.array([4]))


def test_8_bit_images_are_moved_and_normalised_like_the_datasets_own_samples(tmp_path: Path) -> None:
    """ResNet50's preprocessing is 8-bit pixels minus channel means: the engine gets the pixels
    (a quarter of the bytes) and subtracts the means itself; the model sees the same input."""
    from pytest_mlperf_nv.benchmarks.resnet50_model import build_random_resnet50
    from pytest_mlperf_nv.harness.loadgen.torch_backend import load_model

    dataset = imagenet.synthetic_imagenet_dataset(DatasetContext(None, tmp_path, {"count": 4}))
    raw = dataset.raw([0, 1, 2, 3])
    assert raw.dtype == np.uint8 and raw.shape == (4, 224, 224, 3)
    module, weights = load_model(tmp_path / build_random_resnet50(tmp_path))
    assert weights.startswith("random")
    outs = []
    for use_raw in (True, False):
        store = SampleStore(dataset, raw=use_raw, on_device=False)
        example = store.sample([0])
        engine = DeviceEngine(module, "cpu", precision="fp32", channels_last=True, compile=False,
                              freezing=False, dynamic_batch=False, graphs=False,
                              raw=dataset.raw_input if use_raw else None,
                              sample_shape=example.shape[1:], sample_dtype=torch.from_numpy(example).dtype,
                              max_batch=4, buckets=[4], lanes=1, copy_streams=1)
        lg = FakeLoadGen()
        sut = PipelinedSUT(lg, [engine], store, lambda o: o.astype(np.float32), 4, on_error=pytest.fail,
                           inline=True)
        sut.load_samples([0, 1, 2, 3])
        sut.issue_fast([0, 1, 2, 3], [0, 1, 2, 3])
        outs.append(np.stack([np.frombuffer(lg.responses[i], np.float32) for i in range(4)]))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-4, atol=1e-4)


def test_raw_pixels_give_back_the_exact_8_bit_crop() -> None:
    pixels = np.random.default_rng(3).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)
    means = np.array(imagenet.MEANS_RGB, dtype=np.float32)
    for layout in ("NCHW", "NHWC"):
        for dtype in ("float32", "float16"):
            samples = pixels.astype(np.float32) - means
            if layout == "NCHW":
                samples = samples.transpose(0, 3, 1, 2)
            samples = samples.astype(dtype)
            np.testing.assert_array_equal(imagenet.raw_pixels(samples, layout), pixels)


def test_the_backend_runs_a_suites_onnx_model_end_to_end_on_the_cpu(
        digits: tuple[Path, ArrayDataset]) -> None:
    model, dataset = digits
    backend = TorchBackend(model, {"device": "cpu"})
    lg = FakeLoadGen()
    sut = backend.create_sut(lg, dataset, _argmax, {"gpu_batch_size": 16}, pytest.fail, scenario="Offline")
    sut.load_samples(list(range(dataset.total_count)))
    sut.issue_fast(list(range(dataset.total_count)), list(range(dataset.total_count)))
    lg.wait_for(dataset.total_count)
    sut.stop()
    got = np.array([np.frombuffer(lg.responses[i], np.int32)[0] for i in range(dataset.total_count)])
    np.testing.assert_array_equal(got, _expected(model, dataset))
    described = backend.describe()
    assert described["devices"][0]["buckets"] == [16] and described["options"]["device"] == "cpu"
    assert backend.predict(dataset.get([0, 1])).shape == (2, 10)


def test_a_second_sut_of_the_backend_reuses_the_compiled_model_with_its_own_batch_sizes(
        digits: tuple[Path, ArrayDataset]) -> None:
    model, dataset = digits
    backend = TorchBackend(model, {"device": "cpu"})
    first = backend.create_sut(FakeLoadGen(), dataset, _argmax, {"gpu_batch_size": 16}, pytest.fail,
                               scenario="Offline")
    first.stop()
    lg = FakeLoadGen()
    second = backend.create_sut(lg, dataset, _argmax, {"gpu_batch_size": 8}, pytest.fail, scenario="Server")
    assert second.engines[0].fn is first.engines[0].fn
    assert second.engines[0].buckets == buckets_for(8, "Server")
    second.load_samples(list(range(dataset.total_count)))
    second.issue_fast(list(range(dataset.total_count)), list(range(dataset.total_count)))
    lg.wait_for(dataset.total_count)
    second.stop()
    got = np.array([np.frombuffer(lg.responses[i], np.int32)[0] for i in range(dataset.total_count)])
    np.testing.assert_array_equal(got, _expected(model, dataset))


def test_a_large_batch_is_gathered_in_parallel_into_the_right_rows() -> None:
    rng = np.random.default_rng(5)
    data = rng.integers(0, 256, (64, 160, 160, 3), dtype=np.uint8)  # 4.9 MB per 64 rows
    store = SampleStore(ArrayDataset(data), raw=False, on_device=False)
    store.load(list(range(64)))
    rows = store.rows(rng.permutation(64)[:48])
    out = torch.empty((48, 160, 160, 3), dtype=torch.uint8)
    big = torch.empty((6 * 48, 160, 160, 3), dtype=torch.uint8)
    store.gather(rows, out)
    store.gather(np.tile(rows, 6), big)  # over 8 MB: split over threads
    np.testing.assert_array_equal(out.numpy(), data[rows])
    np.testing.assert_array_equal(big.numpy(), data[np.tile(rows, 6)])
