"""One session at a time per output dir.

Two pytest sessions writing one output dir would replace each other's run dirs (a rerun moves
the previous run dir aside) and the losing items would fail for reasons that are not theirs.
The session that runs items holds an exclusive ``flock`` on ``<out>/.session.lock`` from the
end of collection to its end; a second session gets a clear error naming the holder, or, with
``--mlperf-out-wait SECONDS``, waits that long for the holder to end (CI jobs that share a runner
and its output dir queue up instead of failing).

Under pytest-xdist the controller takes the lock before any worker runs an item and holds it
for the whole session; the workers belong to that session (same session id) and take nothing.
The kernel releases the lock when the holding process ends, however it ends: there is never a
stale lock to clean up. The file keeps who held it last (pid, host, session id, command).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import MlperfError

LOCK_FILE = ".session.lock"


class OutputInUse(MlperfError):
    """Another session holds the output dir."""

    def __init__(self, message: str, holder: dict[str, Any]):
        self.holder = holder
        super().__init__(message)


@dataclass
class OutputLock:
    """A held output-dir lock (``release`` it, or let the process end)."""

    out: Path
    session_id: str
    fd: int | None
    holder: dict[str, Any] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is None:
            return
        import fcntl

        with contextlib.suppress(OSError):
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.fd = None
        _HELD.pop((str(self.out), self.session_id), None)


#: locks this process holds: (out dir, session id) -> lock (acquiring twice is a no-op)
_HELD: dict[tuple[str, str], OutputLock] = {}


#: seconds between tries while waiting for another session's lock
WAIT_POLL_S = 0.25


def acquire(out: Path, session_id: str, *, command: str | None = None, wait_s: float = 0.0,
            on_wait: Callable[[dict[str, Any]], None] | None = None) -> OutputLock:
    """Hold ``out`` for session ``session_id``; OutputInUse when another session holds it.

    ``wait_s``: how long to wait for the holder to end before giving up; ``on_wait`` is told
    the holder's record once, when the wait begins. Creates the output dir if needed (an
    unwritable one is an OutputError naming it).
    """
    import fcntl

    from .fsutil import writing

    out = Path(out).absolute()
    known = _HELD.get((str(out), session_id))
    if known is not None and known.held:
        return known
    path = out / LOCK_FILE
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
        # No O_TRUNC: a session that fails to get the lock must not erase the holder's record.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    deadline = time.monotonic() + max(0.0, wait_s)
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
            holder = _read(fd)
            left = deadline - time.monotonic()
            if left <= 0:
                os.close(fd)
                raise OutputInUse(_in_use_message(out, holder, waited_s=wait_s), holder) from None
            if not told and on_wait is not None:
                on_wait(holder)
            told = True
            time.sleep(min(WAIT_POLL_S, left))
    holder = {"session_id": session_id, "pid": os.getpid(), "host": socket.gethostname(),
              "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
              "cwd": os.getcwd(), "command": command if command is not None else " ".join(sys.argv)[:500]}
    data = (json.dumps(holder, indent=2) + "\n").encode()
    with contextlib.suppress(OSError):  # the record is for messages; the lock is what counts
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    lock = OutputLock(out, session_id, fd, holder)
    _HELD[(str(out), session_id)] = lock
    return lock


def holder(out: Path) -> dict[str, Any] | None:
    """Who holds ``out`` now (the record of the holding session), or None when no session does."""
    import fcntl

    path = Path(out) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _read(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 64 * 1024, 0).decode("utf-8", errors="replace") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _in_use_message(out: Path, holder: dict[str, Any], waited_s: float = 0.0) -> str:
    who = []
    if holder.get("pid"):
        who.append(f"pid {holder['pid']}")
    if holder.get("host"):
        who.append(f"on {holder['host']}")
    if holder.get("started"):
        who.append(f"since {holder['started']}")
    if holder.get("session_id"):
        who.append(f"session {holder['session_id']}")
    command = f"; it runs: {str(holder['command'])[:200]}" if holder.get("command") else ""
    waited = f", still in use after waiting {waited_s:g} s" if waited_s > 0 else ""
    return (f"the output dir {out} is in use by another pytest session ({', '.join(who) or 'unknown'}"
            f"{command}){waited}. Two sessions writing one output dir would replace each other's run dirs. "
            "Wait for that session to end (--mlperf-out-wait SECONDS waits for it), or give this one its "
            "own output dir: --mlperf-out DIR (or MLPERF_NV_OUT)")


def lock_session_output(config: Any) -> None:
    """Controller: hold the session's output dir (once; released when the session is unconfigured).

    Call it where the controller knows the session runs mlperf items, before any runs: after
    collection without xdist, when a worker reports its collection under xdist. Raises
    pytest.UsageError when another session holds the dir. Does nothing on an xdist worker, for
    --collect-only, --mlperf-explain and --mlperf-prefetch-only (they write no run dirs).
    """
    import pytest

    from .errors import OutputError
    from .session import SESSION_KEY

    if hasattr(config, "workerinput") or config.getoption("collectonly", False) \
            or config.getoption("mlperf_explain", False):
        return
    state = config.stash.get(SESSION_KEY, None)
    if state is None or state.settings.get("prefetch_only"):
        return
    wait_s = float(state.settings.get("out_wait") or 0.0)
    out = Path(state.settings.get("out"))

    def waiting(holder: dict[str, Any]) -> None:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        text = (f"{_in_use_message(out.absolute(), holder).split('. ', 1)[0]}; waiting up to {wait_s:g} s "
                "for it to end (--mlperf-out-wait)")
        if reporter is not None:
            reporter.write_line(f"mlperf: {text}")
            reporter.flush()
        else:
            print(f"mlperf: {text}", file=sys.stderr, flush=True)

    try:
        lock = acquire(out, state.session_id, wait_s=wait_s, on_wait=waiting)
    except (OutputInUse, OutputError) as exc:
        raise pytest.UsageError(str(exc)) from None
    if not getattr(lock, "_cleanup_added", False):
        lock._cleanup_added = True  # type: ignore[attr-defined]
        config.add_cleanup(lock.release)


def is_suite_nodeid(nodeid: str) -> bool:
    """A node id collected from a suite file (``<file>.yaml::...``), as xdist reports collections."""
    return nodeid.split("::", 1)[0].endswith((".yaml", ".yml"))


__all__ = ["LOCK_FILE", "OutputInUse", "OutputLock", "acquire", "holder", "is_suite_nodeid",
           "lock_session_output"]
