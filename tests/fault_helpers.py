"""Real file-system faults for tests: a full or read-only file system, a user without permission.

``run_on_small_fs`` runs Python code in a private mount namespace (``unshare``) where a small
tmpfs is mounted, so that writes really fail with ENOSPC (or EROFS after a read-only remount);
``run_as_nobody`` runs code as an unprivileged user, so that writes really fail with EACCES.
Tests skip, saying why, where the machine does not allow these (no unshare, no user namespaces).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def _namespace_command() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("needs unshare(1) (util-linux) to mount a small file system")
    # As root a mount namespace is enough; otherwise a user namespace maps us to root in it.
    return [unshare, "-m"] if os.geteuid() == 0 else [unshare, "-r", "-m"]


def run_on_small_fs(tmp_path: Path, code: str, *, size_kb: int = 256, read_only: bool = False,
                    prepare: str = "") -> dict[str, Any]:
    """Run ``code`` with ``FS`` (a Path) bound to a tmpfs of ``size_kb``; returns what it printed as JSON.

    ``prepare`` runs first on the writable file system; ``read_only`` then remounts it read-only.
    The code's last stdout line must be a JSON object (``print(json.dumps(...))``).
    """
    mount = tmp_path / "fs"
    mount.mkdir(exist_ok=True)
    body = textwrap.dedent(prepare) + "\n"
    if read_only:
        body += 'subprocess.run(["mount", "-o", "remount,ro", str(FS)], check=True)\n'
    body += textwrap.dedent(code)
    script = "\n".join([
        "import json, os, subprocess, sys",
        "from pathlib import Path",
        f"sys.path.insert(0, {str(REPO)!r})",
        f"FS = Path({str(mount)!r})",
        f'subprocess.run(["mount", "-t", "tmpfs", "-o", "size={size_kb}k", "tmpfs", str(FS)], check=True)',
        "try:",
        textwrap.indent(body, "    "),
        "finally:",
        '    subprocess.run(["umount", "-l", str(FS)])',
    ])
    proc = subprocess.run([*_namespace_command(), sys.executable, "-c", script], capture_output=True,
                          text=True, timeout=120)
    if proc.returncode != 0 and ("unshare failed" in proc.stderr or "Operation not permitted" in proc.stderr
                                 or "permission denied" in proc.stderr.lower() and "mount" in proc.stderr):
        pytest.skip(f"this machine does not let the tests mount a small file system: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_without_write_permission(code: str, **paths: Path) -> dict[str, Any]:
    """Run ``code`` where the directories ``paths`` are read-only to it (mode 0555; as root, without
    the capability that overrides file permissions). The code sees the paths as variables and
    prints JSON last."""
    header = "import json, sys\nfrom pathlib import Path\n" + f"sys.path.insert(0, {str(REPO)!r})\n"
    header += "".join(f"{name} = Path({str(path)!r})\n" for name, path in paths.items())
    command = [sys.executable, "-c", header + textwrap.dedent(code)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("as root, needs setpriv(1) (util-linux) to drop the permission-override capability")
        caps = "-dac_override,-dac_read_search,-fowner"
        command = [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", "--", *command]
    modes = {path: path.stat().st_mode for path in paths.values()}
    for path in paths.values():
        os.chmod(path, 0o555)
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        for path, mode in modes.items():
            os.chmod(path, mode)
    if proc.returncode != 0 and "setpriv" in proc.stderr:
        pytest.skip(f"setpriv cannot drop capabilities here: {proc.stderr.strip()[-300:]}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])
