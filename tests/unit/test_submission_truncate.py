"""Hash and truncation of accuracy logs, byte for byte as MLCommons' truncate_accuracy_log.py does it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pytest_mlperf_nv.submission.truncate import (
    TRUNCATED_SIZE,
    TruncationError,
    hash_and_truncate,
    looks_truncated,
    read_hash,
    read_hashes,
    truncated_bytes,
    verify_truncation,
)


def accuracy_log(n: int) -> bytes:
    """A LoadGen-shaped accuracy log with ``n`` entries (about 50 bytes each)."""
    rows = [f'{{ "seq_id" : {i}, "qsl_idx" : {i * 7 % 1000}, "data" : "{i:08X}" }}' for i in range(n)]
    return ("[\n" + ",\n".join(rows) + "\n]\n").encode()


def make_dir(tmp_path: Path, log: bytes, txt: str | None = "accuracy=76.500%, good=1, total=2\n") -> Path:
    acc = tmp_path / "accuracy"
    acc.mkdir()
    (acc / "mlperf_log_accuracy.json").write_bytes(log)
    if txt is not None:
        (acc / "accuracy.txt").write_text(txt)
    return acc


def test_big_log_is_hashed_then_cut_to_head_mark_tail(tmp_path: Path) -> None:
    log = accuracy_log(600)
    assert len(log) > 10 * 1024
    acc = make_dir(tmp_path, log)
    result = hash_and_truncate(acc)
    digest = hashlib.sha256(log).hexdigest()
    cut = (acc / "mlperf_log_accuracy.json").read_bytes()
    assert cut == log[:4096] + b"\n\n...\n\n" + log[-4096:]
    assert len(cut) == TRUNCATED_SIZE == 8199
    assert (acc / "accuracy.txt").read_text() == f"accuracy=76.500%, good=1, total=2\n\nhash={digest}\n"
    assert (result.action, result.hash) == ("truncated", digest)
    assert (result.original_size, result.size) == (len(log), 8199)
    assert looks_truncated(cut) and not looks_truncated(log)
    assert json.dumps(result.as_dict())


def test_second_pass_changes_nothing(tmp_path: Path) -> None:
    acc = make_dir(tmp_path, accuracy_log(600))
    first = hash_and_truncate(acc)
    before = {p.name: p.read_bytes() for p in acc.iterdir()}
    again = hash_and_truncate(acc)
    assert again.action == "skipped" and again.hash == first.hash
    assert {p.name: p.read_bytes() for p in acc.iterdir()} == before


def test_log_under_4096_bytes_is_kept_and_still_hashed(tmp_path: Path) -> None:
    log = accuracy_log(40)
    assert len(log) < 4096
    acc = make_dir(tmp_path, log)
    result = hash_and_truncate(acc)
    assert result.action == "hashed"
    assert (acc / "mlperf_log_accuracy.json").read_bytes() == log
    assert read_hash(acc / "accuracy.txt") == hashlib.sha256(log).hexdigest()
    assert hash_and_truncate(acc).action == "skipped"
    assert read_hashes(acc / "accuracy.txt") == [result.hash]


def test_log_between_4_and_10_kib_gets_the_official_overlapping_cut(tmp_path: Path) -> None:
    # truncate_file has no lower bound but 4096: a 5 KB log becomes 8199 bytes (head and tail overlap)
    log = accuracy_log(100)
    assert 4096 <= len(log) < 10 * 1024
    acc = make_dir(tmp_path, log)
    assert hash_and_truncate(acc).action == "truncated"
    assert (acc / "mlperf_log_accuracy.json").read_bytes() == truncated_bytes(log)
    assert len(truncated_bytes(log)) == 8199


def test_big_log_with_an_old_hash_is_hashed_again_like_the_official_script(tmp_path: Path) -> None:
    log = accuracy_log(600)
    acc = make_dir(tmp_path, log, "accuracy=1\nhash=" + "0" * 64 + "\n")
    result = hash_and_truncate(acc)
    assert result.action == "truncated"
    assert read_hashes(acc / "accuracy.txt") == ["0" * 64, hashlib.sha256(log).hexdigest()]
    assert result.hash == "0" * 64  # the checker reads the first line


def test_missing_accuracy_txt(tmp_path: Path) -> None:
    acc = make_dir(tmp_path, accuracy_log(600), txt=None)
    with pytest.raises(TruncationError, match="accuracy.txt is missing"):
        hash_and_truncate(acc)
    assert len((acc / "mlperf_log_accuracy.json").read_bytes()) > 10 * 1024  # untouched
    result = hash_and_truncate(acc, create_accuracy_txt=True)
    assert (acc / "accuracy.txt").read_text() == f"hash={result.hash}\n"


def test_missing_log(tmp_path: Path) -> None:
    (tmp_path / "accuracy").mkdir()
    with pytest.raises(TruncationError, match="mlperf_log_accuracy.json is missing"):
        hash_and_truncate(tmp_path / "accuracy")


def test_refuses_a_plugin_run_directory(tmp_path: Path) -> None:
    acc = make_dir(tmp_path, accuracy_log(600))
    (acc / "result.json").write_text("{}")
    with pytest.raises(TruncationError, match="is a run directory"):
        hash_and_truncate(acc)
    assert len((acc / "mlperf_log_accuracy.json").read_bytes()) > 10 * 1024


def test_verify_truncation_against_the_original(tmp_path: Path) -> None:
    log = accuracy_log(600)
    original = tmp_path / "full.json"
    original.write_bytes(log)
    acc = make_dir(tmp_path, log)
    hash_and_truncate(acc)
    tree_log, txt = acc / "mlperf_log_accuracy.json", acc / "accuracy.txt"
    assert verify_truncation(tree_log, txt, original) == []
    original.write_bytes(log.replace(b'"0000012C"', b'"0000012D"'))  # an entry mid-log: the same cut
    [(kind, problem)] = verify_truncation(tree_log, txt, original)
    assert kind == "bad-hash" and "sha256" in problem
    original.write_bytes(log)
    tree_log.write_bytes(tree_log.read_bytes()[:-10] + b"0123456789")
    [(kind, problem)] = verify_truncation(tree_log, txt, original)
    assert kind == "bad-truncation" and "official cut" in problem
