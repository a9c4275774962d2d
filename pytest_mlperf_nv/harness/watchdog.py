"""Ends a run's process group when its deadline passes or when the process that started it dies.

    python -m pytest_mlperf_nv.harness.watchdog PGID DEADLINE

The runner starts one watchdog per run, in a session of its own (a signal to pytest's process
group does not reach it), and keeps a pipe to its stdin open for the run's length. Lines on
the pipe move the deadline (``deadline <epoch seconds>``) or end the watch (``done``). End of
file without ``done`` means the runner is gone — pytest got SIGTERM from a cancelled CI job,
an xdist worker was SIGKILLed — and the run is killed at once, so nothing keeps running after
the session that owned it. The kernel closes the pipe whatever way the runner died.

It imports nothing beyond the standard library, to start fast.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time

#: the runner kills at the deadline itself; the watchdog only acts if it has not
GRACE_S = 10.0
POLL_S = 1.0


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def watch(pgid: int, deadline: float, stream) -> str:
    """Watch until done, the deadline or the end of ``stream``; returns why it stopped."""
    fd = stream.fileno()
    buffer = b""
    while True:
        wait = deadline + GRACE_S - time.time()
        if wait <= 0:
            kill_group(pgid)
            return "deadline"
        ready, _, _ = select.select([fd], [], [], min(POLL_S, wait))
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            kill_group(pgid)
            return "orphaned"
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            words = line.decode("ascii", "replace").split()
            if words == ["done"]:
                return "done"
            if len(words) == 2 and words[0] == "deadline":
                try:
                    deadline = float(words[1])
                except ValueError:
                    pass


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m pytest_mlperf_nv.harness.watchdog PGID DEADLINE", file=sys.stderr)
        return 2
    # Interrupts are for the runner; the watchdog outlives it on purpose.
    for name in ("SIGINT", "SIGHUP", "SIGQUIT"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    pgid, deadline = int(argv[0]), float(argv[1])

    def terminated(*_: object) -> None:
        kill_group(pgid)
        os._exit(0)

    signal.signal(signal.SIGTERM, terminated)
    watch(pgid, deadline, sys.stdin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
