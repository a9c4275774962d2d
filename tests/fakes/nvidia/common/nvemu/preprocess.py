"""What each emulated code/<benchmark>/tensorrt/preprocess_data.py does (Makefile.data runs one per
benchmark path, so the scripts stay there as thin entries): needs the downloaded data, as the real
scripts do, and stamps the preprocessed data."""

from __future__ import annotations

import time
from pathlib import Path


def main(bench: str) -> int | str:
    """Preprocess ``bench``'s data (relative to the code dir, as NVIDIA's scripts run)."""
    if not (Path("build/data") / bench / ".downloaded").is_file():
        return f"no dataset for {bench} under build/data/{bench}: run make download_data first"
    out = Path("build/preprocessed_data") / bench
    out.mkdir(parents=True, exist_ok=True)
    (out / ".preprocessed").write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")
    print(f"Preprocessed data for {bench} into {out}")
    return 0
