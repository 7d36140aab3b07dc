"""Test-session settings: the derivation cache on disk is off (every test derives what it checks, and
nothing is read from or written to the user's cache folder); the cache tests turn it on in a
temporary folder. Progress bars are silenced so that stderr checks see only what the code reports."""

import os

os.environ["SYMDERIVE_NO_CACHE"] = "1"
os.environ["SYMDERIVE_QUIET"] = "1"
