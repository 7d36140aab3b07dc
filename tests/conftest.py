"""Test-session settings: the derivation cache on disk is off (every test derives what it checks, and
nothing is read from or written to the user's cache folder); the cache tests turn it on in a
temporary folder. Progress bars are silenced so that stderr checks see only what the code reports.

The ``tests`` folder is put first on ``sys.path`` here, once, so that test modules import the shared
test code as top-level modules: ``helpers`` (tests/helpers.py), ``reference`` (tests/reference.py) and
``cuda_sim_runner`` (tests/cuda_sim_runner.py). pytest imports this file before any test module."""

import os
import sys
from pathlib import Path

os.environ["SYMDERIVE_NO_CACHE"] = "1"
os.environ["SYMDERIVE_QUIET"] = "1"
os.environ["SYMDERIVE_NO_WARM"] = "1"   # CLI exports skip the Numba warm-up (tests/test_cold_start.py runs it)

TESTS = str(Path(__file__).resolve().parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
