"""Live progress: the child's progress.json, and its rendering on a terminal and in a CI log."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

from pytest_mlperf_nv.report.live import (
    PROGRESS_FILE,
    BackgroundProgressWriter,
    ProgressView,
    ProgressWriter,
    expected_samples,
    loadgen_writer,
    read_progress,
    render_line,
    watch_progress,
)


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_writer_writes_whole_files_at_most_once_a_second(tmp_path: Path) -> None:
    clock = Clock()
    writer = ProgressWriter(tmp_path, expected_samples=1000, expected_s=10.0, clock=clock)
    first = read_progress(tmp_path)
    assert first["phase"] == "running" and first["samples_completed"] == 0
    assert first["samples_expected"] == 1000 and first["expected_s"] == 10.0
    clock.now += 0.5
    writer.update(100)
    assert read_progress(tmp_path)["samples_completed"] == 0  # not yet: less than a second
    clock.now += 0.5
    writer.update(200)
    data = read_progress(tmp_path)
    assert data["samples_completed"] == 200 and data["rate"] == 200.0
    writer.close()
    assert read_progress(tmp_path)["phase"] == "done"
    assert sorted(p.name for p in tmp_path.iterdir()) == [PROGRESS_FILE]  # no temporary file left


def test_rate_is_over_the_last_seconds(tmp_path: Path) -> None:
    clock = Clock()
    writer = ProgressWriter(tmp_path, clock=clock)
    for second in range(1, 11):
        clock.now += 1
        writer.update(1000 * second if second <= 5 else 5000 + 100 * (second - 5))
    assert read_progress(tmp_path)["rate"] == 100.0  # the slow last seconds, not the 10 s average


def test_a_previous_runs_file_is_not_read_as_this_runs(tmp_path: Path) -> None:
    ProgressWriter(tmp_path, clock=Clock(500.0))
    assert read_progress(tmp_path, since=600.0) is None
    assert read_progress(tmp_path, since=400.0)["started"] == 500.0
    (tmp_path / PROGRESS_FILE).write_text("{half a fi")
    assert read_progress(tmp_path) is None


def test_expected_samples_from_loadgens_settings() -> None:
    settings = {"min_duration_ms": 1000, "offline_expected_qps": 2000.0, "min_query_count": 1}
    assert expected_samples("PerformanceOnly", "Offline", settings, 360) == 2200
    rules = {**settings, "min_query_count": 24576}
    assert expected_samples("PerformanceOnly", "Offline", rules, 360) == 24576
    assert expected_samples("PerformanceOnly", "Server", {"server_target_qps": 100}, 360) == 60000  # 600 s
    assert expected_samples("AccuracyOnly", "Server", {"server_target_qps": 100}, 360) == 360
    assert expected_samples("PerformanceOnly", "SingleStream", settings, 360) is None


def test_render_line() -> None:
    progress = {"samples_completed": 45000, "samples_expected": 110000, "rate": 3200.4, "phase": "running"}
    assert (
        render_line("digits Offline performance", 12, 60, progress)
        == "digits Offline performance: 0:12 of ~1:00, 45,000 of 110,000 samples, 3,200 samples/s"
    )
    assert (
        render_line("resnet50 Server performance", 3725, None, None) == "resnet50 Server performance: 1:02:05"
    )
    assert (
        render_line("x", 5, 600, {"samples_completed": 10, "rate": None, "phase": "done"})
        == "x: 0:05 of ~10:00, 10 samples (done)"
    )


def test_terminal_line_is_redrawn_below_and_removed_putting_the_cursor_back() -> None:
    clock = Clock(0.0)
    stream = Tty()
    view = ProgressView(
        "digits Offline performance", stream=stream, tty=True, expected_s=60, column=23, width=70, clock=clock
    )
    clock.now = 1.0
    view.tick({"samples_completed": 10, "rate": 10.0})
    clock.now = 2.0
    view.tick({"samples_completed": 30, "rate": 20.0})
    view.close()
    text = stream.getvalue()
    first, second, close = text.split("\r", 1)[0], text.split("\r")[1], text.split("\r")[-1]
    assert first == "\n"  # a line of its own below pytest's
    assert second == "digits Offline performance: 0:01 of ~1:00, 10 samples, 10 samples/s\x1b[K"
    assert "0:02 of ~1:00, 30 samples, 20 samples/s\x1b[K" in text
    assert close == "\x1b[K\x1b[A\x1b[24G"  # cleared, one line up, back to column 23
    assert text.count("\n") == 1


def test_terminal_line_is_cut_to_the_width() -> None:
    stream = Tty()
    view = ProgressView(
        "a-very-long-benchmark-name Offline performance", stream=stream, tty=True, width=30, clock=Clock()
    )
    view.tick(None)
    line = stream.getvalue().split("\r")[1]
    assert line == "a-very-long-benchmark-name Of\x1b[K"


def test_plain_lines_every_interval_and_none_for_short_runs() -> None:
    clock = Clock(0.0)
    lines: list[str] = []
    view = ProgressView(
        "digits Server performance",
        stream=io.StringIO(),
        tty=False,
        expected_s=600,
        plain_interval_s=30,
        clock=clock,
        write_line=lines.append,
    )
    for second in range(1, 95):
        clock.now = float(second)
        view.tick({"samples_completed": 1000 * second, "rate": 1000.0})
    view.close()
    assert lines == [
        f"digits Server performance: {t} of ~10:00, {n:,} samples, 1,000 samples/s"
        for t, n in (("0:30", 30000), ("1:00", 60000), ("1:30", 90000))
    ]
    assert not any("\r" in line or "\x1b" in line for line in lines)
    short = ProgressView(
        "x", stream=io.StringIO(), tty=False, plain_interval_s=30, clock=Clock(0.0), write_line=lines.append
    )
    short.tick(None)
    short.close()
    assert len(lines) == 3


def test_plain_lines_without_a_line_writer_go_to_the_stream() -> None:
    clock = Clock(0.0)
    stream = io.StringIO()
    view = ProgressView("x", stream=stream, tty=False, plain_interval_s=1, clock=clock)
    clock.now = 1.5
    view.tick(None)
    assert stream.getvalue() == "x: 0:01\n"


def test_quiet_writes_nothing(tmp_path: Path) -> None:
    for tty in (True, False):
        stream = Tty() if tty else io.StringIO()
        view = ProgressView("x", stream=stream, tty=tty, quiet=True, plain_interval_s=0.01, clock=Clock())
        with watch_progress(tmp_path, view, poll_s=0.01):
            time.sleep(0.05)
        view.tick(None)
        assert stream.getvalue() == ""


def test_watch_renders_a_child_writing_progress(tmp_path: Path) -> None:
    """A writer in another thread stands for the child process: the files are real."""
    lines: list[str] = []
    view = ProgressView(
        "digits Offline performance",
        stream=io.StringIO(),
        tty=False,
        expected_s=1,
        plain_interval_s=0.05,
        write_line=lines.append,
    )
    done = threading.Event()

    def child() -> None:
        writer = ProgressWriter(tmp_path, expected_samples=500, interval_s=0.01)
        for n in range(1, 6):
            time.sleep(0.03)
            writer.update(100 * n)
        writer.close()
        done.set()

    with watch_progress(tmp_path, view, poll_s=0.02):
        threading.Thread(target=child).start()
        assert done.wait(30)
        deadline = time.monotonic() + 30  # however loaded the machine, the watcher gets there
        while not any("(done)" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.02)
    assert any("500 of 500 samples" in line and line.endswith("(done)") for line in lines), lines
    data = json.loads((tmp_path / PROGRESS_FILE).read_text())
    assert data["samples_completed"] == 500 and data["phase"] == "done"


def test_loadgen_writer_takes_its_expectations_from_loadgens_own_settings(tmp_path: Path) -> None:
    """The child's writer reads the TestSettings LoadGen runs with (mlperf.conf, then the run's values)."""
    import mlperf_loadgen as lg

    settings = lg.TestSettings()
    settings.scenario = lg.TestScenario.Offline
    settings.min_duration_ms = 2000
    settings.offline_expected_qps = 500
    settings.min_query_count = 1
    writer = loadgen_writer(tmp_path, settings, "PerformanceOnly", "Offline", 1000)
    assert (writer.expected_samples, writer.expected_s) == (1100, 2.0)
    writer.update(5)  # the SUT's completion path: no file written there
    writer.close()
    assert read_progress(tmp_path)["phase"] == "done" and read_progress(tmp_path)["samples_completed"] == 5
    accuracy = loadgen_writer(tmp_path, settings, "AccuracyOnly", "Offline", 1000)
    assert (accuracy.expected_samples, accuracy.expected_s) == (1000, None)
    settings.scenario = lg.TestScenario.SingleStream
    single = loadgen_writer(tmp_path, settings, "PerformanceOnly", "SingleStream", 1000)
    assert single.expected_samples is None and single.expected_s == 2.0  # its count follows latency


def test_a_plain_view_ends_with_the_final_count_but_a_short_run_stays_silent() -> None:
    clock, lines = Clock(0.0), []
    view = ProgressView("digits Offline performance", stream=io.StringIO(), tty=False, plain_interval_s=30,
                        clock=clock, write_line=lines.append)
    done = {"phase": "done", "samples_completed": 4400, "samples_expected": 4400, "rate": None}
    view.last(done)
    assert lines == []  # no line yet: nothing to close
    clock.now = 31.0
    view.tick({"phase": "running", "samples_completed": 10, "samples_expected": 4400, "rate": 5.0})
    clock.now = 40.0
    view.last(done)
    assert lines[-1] == "digits Offline performance: 0:40, 4,400 of 4,400 samples (done)"


def test_a_background_writer_writes_from_its_own_thread(tmp_path: Path) -> None:
    writer = BackgroundProgressWriter(tmp_path, expected_samples=100, interval_s=0.01)
    writer.update(42)
    deadline = time.monotonic() + 60
    while (read_progress(tmp_path) or {}).get("samples_completed") != 42:  # its thread wrote it
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert read_progress(tmp_path)["phase"] == "running"
    writer.close()
    assert read_progress(tmp_path)["phase"] == "done" and not writer._thread.is_alive()
