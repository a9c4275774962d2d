"""Emulated code/<benchmark>/tensorrt/preprocess_data.py (Makefile.data runs it per benchmark);
common/nvemu/preprocess.py does the work."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "common"))

from nvemu.preprocess import main  # noqa: E402

sys.exit(main(Path(__file__).resolve().parents[1].name))
