"""The version of symderive, in one place: the package, the command line, the certificates, the cache
keys and the packaging metadata (pyproject.toml reads it) all take it from here."""

__version__ = "0.1.0"
