"""read_accuracy_log / decode / dedupe, including malformed logs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_mlperf_nv.accuracy import (
    AccuracyEntry,
    AccuracyLogError,
    decode,
    dedupe,
    read_accuracy_log,
)

GOOD = (
    "[\n"
    '{ "seq_id" : 0, "qsl_idx" : 48, "data" : "71000000" },\n'
    '{ "seq_id" : 1, "qsl_idx" : 8, "data" : "DE010000" },\n'
    '{ "seq_id" : 2, "qsl_idx" : 48, "data" : "" }\n'
    "]\n"
)


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "mlperf_log_accuracy.json"
    p.write_text(text)
    return p


def test_read_and_decode(tmp_path: Path) -> None:
    entries = read_accuracy_log(write(tmp_path, GOOD))
    assert entries == [
        AccuracyEntry(0, 48, b"\x71\x00\x00\x00"),
        AccuracyEntry(1, 8, b"\xde\x01\x00\x00"),
        AccuracyEntry(2, 48, b""),
    ]
    assert decode(entries[0], "int32").tolist() == [0x71]
    assert decode(entries[1].data, np.int32).tolist() == [0x1DE]
    assert decode(entries[1], "uint8").tolist() == [0xDE, 1, 0, 0]
    assert decode(entries[1], "int16").tolist() == [0x1DE, 0]
    assert decode(entries[2], "float32").size == 0
    assert read_accuracy_log(str(tmp_path / "mlperf_log_accuracy.json")) == entries


@pytest.mark.parametrize(
    "dtype", ["int8", "uint8", "int16", "float16", "int32", "uint32", "float32", "int64", "float64"]
)
def test_decode_every_dtype_little_endian(dtype: str) -> None:
    values = np.array([0, 1, 2, 100], dtype=dtype)
    raw = values.astype(np.dtype(dtype).newbyteorder("<")).tobytes()
    out = decode(raw, dtype)
    assert out.dtype.itemsize == np.dtype(dtype).itemsize
    assert out.tolist() == values.tolist()


def test_decode_length_not_multiple(tmp_path: Path) -> None:
    entry = AccuracyEntry(7, 3, b"\x00" * 6)
    with pytest.raises(AccuracyLogError, match=r"seq_id 7 \(qsl_idx 3\) holds 6 bytes.*4 \(float32\)"):
        decode(entry, "float32")
    with pytest.raises(AccuracyLogError, match=r"^x\.json: response holds 6 bytes"):
        decode(entry.data, "int32", source="x.json")
    assert decode(entry, "int16").tolist() == [0, 0, 0]


def test_dedupe_first_and_last() -> None:
    entries = [AccuracyEntry(0, 5, b"a"), AccuracyEntry(1, 2, b"b"), AccuracyEntry(2, 5, b"c")]
    first = dedupe(entries)
    assert list(first) == [5, 2] and first[5].data == b"a"
    last = dedupe(entries, keep="last")
    assert list(last) == [5, 2] and last[5].data == b"c"
    with pytest.raises(ValueError):
        dedupe(entries, keep="middle")  # type: ignore[arg-type]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AccuracyLogError, match=r"nope\.json: accuracy log not found"):
        read_accuracy_log(tmp_path / "nope.json")


@pytest.mark.parametrize("cut", [1, 30, len(GOOD) - 3])
def test_truncated(tmp_path: Path, cut: int) -> None:
    p = write(tmp_path, GOOD[:cut])
    with pytest.raises(AccuracyLogError, match=r"mlperf_log_accuracy\.json: .*looks truncated.*no closing"):
        read_accuracy_log(p)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(AccuracyLogError, match="empty.*truncated"):
        read_accuracy_log(write(tmp_path, ""))


def test_invalid_json_with_closing_bracket(tmp_path: Path) -> None:
    text = GOOD.replace('"qsl_idx" : 8,', '"qsl_idx" : 8')
    with pytest.raises(AccuracyLogError, match=r"not valid JSON.*line 3") as info:
        read_accuracy_log(write(tmp_path, text))
    assert "truncated" not in str(info.value)


def test_empty_list_is_fine(tmp_path: Path) -> None:
    assert read_accuracy_log(write(tmp_path, "[\n]\n")) == []


def test_root_not_list(tmp_path: Path) -> None:
    with pytest.raises(AccuracyLogError, match="root must be a JSON list.*dict"):
        read_accuracy_log(write(tmp_path, '{"seq_id": 0}'))


def test_entry_missing_key(tmp_path: Path) -> None:
    text = GOOD.replace('"qsl_idx" : 8, ', "")
    with pytest.raises(AccuracyLogError, match=r"entry 1 \(seq_id 1\) is missing key\(s\) qsl_idx"):
        read_accuracy_log(write(tmp_path, text))


def test_entry_not_object(tmp_path: Path) -> None:
    with pytest.raises(AccuracyLogError, match="entry 0 must be a JSON object, got int"):
        read_accuracy_log(write(tmp_path, "[1]"))


def test_entry_wrong_types(tmp_path: Path) -> None:
    text = GOOD.replace('"data" : "71000000"', '"data" : 5')
    with pytest.raises(AccuracyLogError, match=r"entry 0 \(seq_id 0\).*hex string"):
        read_accuracy_log(write(tmp_path, text))


@pytest.mark.parametrize("bad", ["DE01000", "ZZ010000"])
def test_bad_hex(tmp_path: Path, bad: str) -> None:
    text = GOOD.replace("DE010000", bad)
    with pytest.raises(AccuracyLogError, match=r"entry 1 \(seq_id 1, qsl_idx 8\): 'data' is not valid hex"):
        read_accuracy_log(write(tmp_path, text))


def test_is_value_error() -> None:
    assert issubclass(AccuracyLogError, ValueError)
