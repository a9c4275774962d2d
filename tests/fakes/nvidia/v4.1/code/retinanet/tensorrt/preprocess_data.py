"""Emulated code/<benchmark>/tensorrt/preprocess_data.py (Makefile.data runs it per benchmark): needs the
downloaded data, as the real scripts do."""

import sys
import time
from pathlib import Path

bench = Path(__file__).resolve().parents[1].name
if not (Path("build/data") / bench / ".downloaded").is_file():
    sys.exit(f"no dataset for {bench} under build/data/{bench}: run make download_data first")
out = Path("build/preprocessed_data") / bench
out.mkdir(parents=True, exist_ok=True)
(out / ".preprocessed").write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")
print(f"Preprocessed data for {bench} into {out}")
