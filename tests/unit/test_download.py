"""Tests for resumable, verified downloads and the progress reporter.

Real sockets on 127.0.0.1 only: a ThreadingHTTPServer in a thread serves bytes
from memory, with Range support and switches for misbehaviour (cut connections,
stalls, ignored ranges, transient 5xx).
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pytest_mlperf_nv.errors import ProvisionError
from pytest_mlperf_nv.provision.download import download, file_md5, file_sha256, mirror_url
from pytest_mlperf_nv.provision.progress import Progress, format_amount, format_duration

PAYLOAD = random.Random(1234).randbytes(300_000)
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()
FAST = {"backoff_s": 0.0, "timeout_s": 5.0}  # no sleeping between retries in tests


@dataclass
class ServerState:
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[dict[str, str | None]] = field(default_factory=list)
    cuts: int = 0  # this many requests send only ``cut_after`` bytes of the body, then close
    cut_after: int = 0
    stalls: int = 0  # this many requests send ``cut_after`` bytes, then stall (client times out)
    ignore_range: bool = False
    statuses: list[int] = field(default_factory=list)  # answered (in order) before serving the file
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ranges(self) -> list[str | None]:
        return [r["range"] for r in self.requests]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # http.server's naming
        st = self.server.state
        with st.lock:
            st.requests.append({"path": self.path, "range": self.headers.get("Range")})
            status = st.statuses.pop(0) if st.statuses else None
            cut = status is None and st.cuts > 0
            st.cuts -= cut
            stall = status is None and not cut and st.stalls > 0
            st.stalls -= stall
        if status is not None:
            self.send_error(status)
            return
        body = st.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start, code = 0, 200
        rng = self.headers.get("Range")
        if rng and not st.ignore_range:
            m = re.fullmatch(r"bytes=(\d+)-", rng)
            assert m, rng
            start = int(m.group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            code = 206
        self.send_response(code)
        self.send_header("Content-Length", str(len(body) - start))
        if code == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        data = body[start:]
        if cut or stall:
            self.wfile.write(data[: st.cut_after])
            self.wfile.flush()
            if stall:
                st.release.wait(10)
            self.close_connection = True
            return
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    state: ServerState


@pytest.fixture
def server() -> Iterator[tuple[str, ServerState]]:
    httpd = _Server(("127.0.0.1", 0), Handler)
    httpd.state = ServerState(files={"/data/model.onnx": PAYLOAD})
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.state
    finally:
        httpd.state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """(dest, staging_dir); dest's parent does not exist yet."""
    return tmp_path / "out" / "nested" / "model.onnx", tmp_path / "staging"


def _part(staging: Path) -> Path:
    return staging / "model.onnx.part"


# -- successful downloads ------------------------------------------------------------


def test_plain_download_with_sha256(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    url = f"{base}/data/model.onnx"
    got = download(url, dest, sha256=SHA256, staging_dir=staging, progress=False, **FAST)
    assert got == dest
    assert dest.read_bytes() == PAYLOAD
    assert not _part(staging).exists()
    assert state.ranges() == [None]


def test_md5_and_both_checksums(server, dirs) -> None:
    base, _ = server
    dest, staging = dirs
    download(f"{base}/data/model.onnx", dest, md5=MD5, staging_dir=staging, progress=False, **FAST)
    assert dest.read_bytes() == PAYLOAD
    dest.unlink()
    download(f"{base}/data/model.onnx", dest, sha256=SHA256.upper(), md5=MD5, staging_dir=staging,
             progress=False, **FAST)
    assert file_sha256(dest) == SHA256 and file_md5(dest) == MD5


def test_existing_dest_with_matching_checksum_is_not_downloaded_again(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    dest.parent.mkdir(parents=True)
    dest.write_bytes(PAYLOAD)
    assert download(f"{base}/data/model.onnx", dest, sha256=SHA256, staging_dir=staging,
                    progress=False, **FAST) == dest
    assert state.requests == []


# -- checksum failures ---------------------------------------------------------------


@pytest.mark.parametrize("algo", ["sha256", "md5"])
def test_checksum_mismatch_deletes_everything(server, dirs, algo) -> None:
    base, _ = server
    dest, staging = dirs
    wrong = "0" * (64 if algo == "sha256" else 32)
    url = f"{base}/data/model.onnx"
    with pytest.raises(ProvisionError) as info:
        download(url, dest, staging_dir=staging, progress=False, **{algo: wrong}, **FAST)
    msg = str(info.value)
    actual = SHA256 if algo == "sha256" else MD5
    assert url in msg and wrong in msg and actual in msg and "deleted" in msg
    assert not dest.exists()
    assert not _part(staging).exists()


def test_stale_part_fails_checksum_then_next_run_succeeds(server, dirs) -> None:
    base, _ = server
    dest, staging = dirs
    staging.mkdir()
    _part(staging).write_bytes(b"x" * 1000)  # left by a different version of the file
    url = f"{base}/data/model.onnx"
    with pytest.raises(ProvisionError, match="checksum mismatch"):
        download(url, dest, sha256=SHA256, staging_dir=staging, progress=False, **FAST)
    assert not _part(staging).exists() and not dest.exists()
    download(url, dest, sha256=SHA256, staging_dir=staging, progress=False, **FAST)
    assert dest.read_bytes() == PAYLOAD


def test_invalid_checksum_argument() -> None:
    with pytest.raises(ValueError, match="invalid sha256"):
        download("http://127.0.0.1:9/x", Path("x"), sha256="abc", staging_dir=Path("."), progress=False)


# -- permanent failures ----------------------------------------------------------------


def test_404_names_url_and_manual_fallback(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    url = f"{base}/data/missing.onnx"
    with pytest.raises(ProvisionError) as info:
        download(url, dest, sha256=SHA256, staging_dir=staging, progress=False, **FAST)
    msg = str(info.value)
    assert url in msg and "HTTP 404" in msg
    assert f"place it at {dest}" in msg and "--mlperf-data-dir" in msg
    assert len(state.requests) == 1, "a 404 is not retried"
    assert not dest.exists()


def test_connection_refused(dirs) -> None:
    dest, staging = dirs
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/model.onnx"
    with pytest.raises(ProvisionError) as info:
        download(url, dest, staging_dir=staging, progress=False, **FAST)
    msg = str(info.value)
    assert url in msg and "refused" in msg and "--mlperf-data-dir" in msg


def test_retries_used_up_keeps_part_for_later(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    staging.mkdir()
    _part(staging).write_bytes(PAYLOAD[:50_000])
    url = f"{base}/data/model.onnx"
    state.statuses = [503] * 3
    with pytest.raises(ProvisionError) as info:
        download(url, dest, sha256=SHA256, staging_dir=staging, progress=False, retries=2, **FAST)
    msg = str(info.value)
    assert url in msg and "HTTP 503" in msg and "gave up after 3 attempts" in msg
    assert "50000 bytes" in msg and "--mlperf-data-dir" in msg
    assert len(state.requests) == 3
    assert _part(staging).stat().st_size == 50_000 and not dest.exists()
    # Once the server recovers, the next run resumes the kept .part.
    download(url, dest, sha256=SHA256, staging_dir=staging, progress=False, **FAST)
    assert state.ranges()[-1] == "bytes=50000-"
    assert dest.read_bytes() == PAYLOAD


# -- transient failures, resume ----------------------------------------------------------


def test_interrupted_download_is_resumed(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    state.cuts, state.cut_after = 1, 123_456
    download(f"{base}/data/model.onnx", dest, sha256=SHA256, staging_dir=staging, progress=False, **FAST)
    assert state.ranges() == [None, "bytes=123456-"]
    assert dest.read_bytes() == PAYLOAD
    assert not _part(staging).exists()


def test_stalled_download_times_out_and_resumes(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    state.stalls, state.cut_after = 1, 70_000
    download(f"{base}/data/model.onnx", dest, sha256=SHA256, staging_dir=staging, progress=False,
             backoff_s=0.0, timeout_s=0.5)
    assert state.ranges() == [None, "bytes=70000-"]
    assert dest.read_bytes() == PAYLOAD


def test_transient_503_is_retried(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    state.statuses = [503, 502]
    download(f"{base}/data/model.onnx", dest, sha256=SHA256, staging_dir=staging, progress=False, **FAST)
    assert len(state.requests) == 3
    assert dest.read_bytes() == PAYLOAD


def test_resume_part_from_earlier_session(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    staging.mkdir()
    _part(staging).write_bytes(PAYLOAD[:200_000])
    download(f"{base}/data/model.onnx", dest, sha256=SHA256, staging_dir=staging, progress=False, **FAST)
    assert state.ranges() == ["bytes=200000-"]
    assert dest.read_bytes() == PAYLOAD


def test_complete_part_from_earlier_session_416(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    staging.mkdir()
    _part(staging).write_bytes(PAYLOAD)  # finished, but the rename never happened
    download(f"{base}/data/model.onnx", dest, sha256=SHA256, staging_dir=staging, progress=False, **FAST)
    assert state.ranges() == [f"bytes={len(PAYLOAD)}-"]
    assert dest.read_bytes() == PAYLOAD


def test_part_longer_than_file_restarts(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    staging.mkdir()
    _part(staging).write_bytes(PAYLOAD + b"junk")
    download(f"{base}/data/model.onnx", dest, sha256=SHA256, staging_dir=staging, progress=False, **FAST)
    assert state.ranges() == [f"bytes={len(PAYLOAD) + 4}-", None]
    assert dest.read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_from_zero(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    state.ignore_range = True
    staging.mkdir()
    _part(staging).write_bytes(PAYLOAD[:100_000])
    download(f"{base}/data/model.onnx", dest, sha256=SHA256, staging_dir=staging, progress=False, **FAST)
    assert state.ranges() == ["bytes=100000-"]  # answered 200 with the whole file
    assert dest.read_bytes() == PAYLOAD


def test_interrupted_download_without_range_support(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    state.ignore_range = True
    state.cuts, state.cut_after = 1, 10_000
    download(f"{base}/data/model.onnx", dest, sha256=SHA256, staging_dir=staging, progress=False, **FAST)
    assert state.ranges() == [None, "bytes=10000-"]
    assert dest.read_bytes() == PAYLOAD


# -- mirrors ---------------------------------------------------------------------------------


def test_mirror_url(tmp_path) -> None:
    url = "https://zenodo.org/record/2592612/files/resnet50_v1.onnx?download=1"
    assert mirror_url(url, None) == url
    assert mirror_url(url, "") == url
    assert mirror_url(url, "http://mirror.local/mlperf") == "http://mirror.local/mlperf/resnet50_v1.onnx"
    assert mirror_url(url, "http://mirror.local/mlperf/") == "http://mirror.local/mlperf/resnet50_v1.onnx"
    assert mirror_url(url, str(tmp_path)) == (tmp_path / "resnet50_v1.onnx").as_uri()
    with pytest.raises(ValueError, match="no file name"):
        mirror_url("https://example.com/", "http://mirror.local")


def test_download_through_mirror(server, dirs, tmp_path) -> None:
    base, state = server
    dest, staging = dirs
    upstream = "https://unreachable.invalid/files/model.onnx?download=1"
    download(mirror_url(upstream, f"{base}/data"), dest, sha256=SHA256, staging_dir=staging,
             progress=False, **FAST)
    assert state.requests[0]["path"] == "/data/model.onnx"
    assert dest.read_bytes() == PAYLOAD
    # A local mirror directory works too (file:// URL).
    mirror_dir = tmp_path / "mirror"
    mirror_dir.mkdir()
    (mirror_dir / "model.onnx").write_bytes(PAYLOAD)
    dest2 = tmp_path / "out2" / "model.onnx"
    download(mirror_url(upstream, str(mirror_dir)), dest2, sha256=SHA256, staging_dir=staging, progress=False)
    assert dest2.read_bytes() == PAYLOAD


def test_file_hash_helpers(tmp_path) -> None:
    p = tmp_path / "f"
    p.write_bytes(PAYLOAD * 5)  # > one 1 MiB chunk
    assert file_sha256(p) == hashlib.sha256(PAYLOAD * 5).hexdigest()
    assert file_md5(p) == hashlib.md5(PAYLOAD * 5).hexdigest()


# -- progress ----------------------------------------------------------------------------------


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_download_progress_plain_stream(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    state.cuts, state.cut_after = 1, 1000
    out = io.StringIO()
    download(f"{base}/data/model.onnx", dest, sha256=SHA256, staging_dir=staging, stream=out, **FAST)
    text = out.getvalue()
    assert "\r" not in text
    assert text.endswith("\n")
    assert re.search(r"^model\.onnx: done, 300\.0 kB in \d+\.\d s", text, re.M), text


def test_download_progress_tty_stream(server, dirs) -> None:
    base, _ = server
    dest, staging = dirs
    out = FakeTTY()
    download(f"{base}/data/model.onnx", dest, sha256=SHA256, staging_dir=staging, stream=out, **FAST)
    text = out.getvalue()
    assert text.startswith("\rmodel.onnx: ")
    assert "100% 300.0 kB of 300.0 kB" in text
    assert text.endswith("\n")


def test_download_progress_off(server, dirs) -> None:
    base, _ = server
    dest, staging = dirs
    out = FakeTTY()
    download(f"{base}/data/model.onnx", dest, staging_dir=staging, stream=out, progress=False, **FAST)
    assert out.getvalue() == ""


def test_download_failure_progress(server, dirs) -> None:
    base, state = server
    dest, staging = dirs
    out = io.StringIO()
    with pytest.raises(ProvisionError):  # fails before any byte: the error alone says it
        download(f"{base}/data/missing.onnx", dest, staging_dir=staging, stream=out, **FAST)
    assert out.getvalue() == ""
    _part(staging).write_bytes(PAYLOAD[:1000])  # resumed, then the server stalls: no progress
    state.stalls, state.cut_after = 1, 0
    with pytest.raises(ProvisionError, match="timed out"):
        download(f"{base}/data/model.onnx", dest, staging_dir=staging, stream=out, retries=0,
                 backoff_s=0.0, timeout_s=0.3)
    assert "\r" not in out.getvalue()
    assert re.fullmatch(r"model\.onnx: stopped at 1\.0 kB of 300\.0 kB after \d+\.\d s\n", out.getvalue())


def test_progress_plain_lines_are_throttled() -> None:
    clock, out = Clock(), io.StringIO()
    total = 27_300_000
    with Progress("resnet50", total, stream=out, clock=clock) as p:
        for _ in range(25):  # 25 s at ~1 MB/s
            clock.t += 1
            p.update(1_000_000)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines == [
        "resnet50: 36% (10.0 MB of 27.3 MB, 1.0 MB/s)",
        "resnet50: 73% (20.0 MB of 27.3 MB, 1.0 MB/s)",
        "resnet50: done, 25.0 MB in 25.0 s (1.0 MB/s)",
    ]


def test_progress_custom_interval_and_unknown_total() -> None:
    clock, out = Clock(), io.StringIO()
    p = Progress("prep", None, stream=out, unit="images", interval_s=2, clock=clock)
    for _ in range(5):
        clock.t += 1
        p.update(100)
    p.close()
    p.close()  # idempotent
    assert out.getvalue().splitlines() == [
        "prep: 200 images (100 images/s)",
        "prep: 400 images (100 images/s)",
        "prep: done, 500 images in 5.0 s (100 images/s)",
    ]


def test_progress_tty_redraws_at_most_10_per_second() -> None:
    clock, out = Clock(), FakeTTY()
    with Progress("engine", 1000, stream=out, clock=clock, interval_s=10) as p:
        for _ in range(100):  # 1 s of updates every 10 ms
            clock.t += 0.01
            p.update(5)
    text = out.getvalue()
    redraws = text.count("\r")
    assert 9 <= redraws <= 12, redraws
    assert text.count("\n") == 1 and text.endswith("\n")
    assert "engine: 50% 500 B of 1.0 kB, 500 B/s, ETA 0:01" in text


def test_progress_tty_pads_over_longer_previous_line() -> None:
    clock, out = Clock(), FakeTTY()
    p = Progress("x", None, stream=out, clock=clock)
    clock.t += 1
    p.update(999_999)  # "999.9 kB ..." then a shorter "1.0 MB ..." line must blank the rest
    clock.t += 1
    p.update(1)
    frames = out.getvalue().split("\r")[1:]
    assert len(frames) == 2 and len(frames[1]) >= len(frames[0])


def test_progress_quiet_and_exception() -> None:
    out = FakeTTY()
    with Progress("x", 10, stream=out, quiet=True) as p:
        p.update(5)
    assert out.getvalue() == ""
    out = io.StringIO()
    with pytest.raises(RuntimeError), Progress("step", 10, stream=out, unit="files") as p:
        p.update(3)
        raise RuntimeError("boom")
    assert out.getvalue().startswith("step: stopped at 3 files of 10 files after ")


def test_formatting_helpers() -> None:
    assert format_amount(999) == "999 B"
    assert format_amount(12_345_678) == "12.3 MB"
    assert format_amount(2.5e12) == "2.5 TB"
    assert format_amount(7, "images") == "7 images"
    assert format_duration(75) == "1:15"
    assert format_duration(3725) == "1:02:05"
