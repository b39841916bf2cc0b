"""Shared fixtures. The package is installed in editable mode by the README's test command;
the path insertion below lets `pytest` also run from a bare checkout with the venv active."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(ROOT / "plugins"))
