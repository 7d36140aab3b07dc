"""Warp and basis SPEC strings, as the CLI and config files write them.

Warp SPEC:  ``exponential``, ``exponential:rate=2``, ``linear:window=1``, ``scale``,
            ``f=EXPR`` or ``f=EXPR;g=EXPR`` (``f`` in ``x``; optional inverse ``g`` in ``z``).
Basis SPEC: ``legendre``, ``fourier``, ``laguerre``, ``functions=EXPR1;EXPR2;...`` (in ``z``).

Parameter values and expressions go through the restricted parser of
:mod:`symderive.inputs.expressions`; nothing in a SPEC is evaluated as Python.
"""

from __future__ import annotations

from ..errors import InputError
from . import bases, warps
from .._limits import SymbolicTimeout, time_limit
from .expressions import parse_expression

#: seconds to parse every expression of one basis SPEC together
SPEC_PARSE_SECONDS = 6.0
from .spec_text import BASIS_HELP as _BASIS_HELP
from .spec_text import WARP_HELP as _WARP_HELP

_WARP_PARAMS = {"exponential": ("rate",), "linear": ("window",), "scale": ()}
_BASES = tuple(bases.BUILTIN)


def _check_text(spec, what, valid):
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"{what} SPEC must be a non-empty string; valid: {valid}")
    return spec.strip()


def parse_warp(spec: str) -> warps.Warp:
    """A warp from its SPEC (module docstring)."""
    spec = _check_text(spec, "warp", _WARP_HELP)
    if spec.startswith("f="):
        parts = spec[2:].split(";")
        if len(parts) > 2 or (len(parts) == 2 and not parts[1].strip().startswith("g=")):
            raise InputError(f"warp SPEC {spec!r}: expected f=EXPR or f=EXPR;g=EXPR")
        inverse = parts[1].strip()[2:] if len(parts) == 2 else None
        return warps.custom(parts[0], inverse=inverse)
    name, _, rest = spec.partition(":")
    name = name.strip()
    if name not in _WARP_PARAMS:
        raise InputError(f"unknown warp {name!r}; valid: {_WARP_HELP}")
    params = _parse_params(rest, name, _WARP_PARAMS[name]) if rest.strip() else {}
    return warps.BUILTIN[name](**params)


def _parse_params(text: str, name: str, allowed: tuple[str, ...]) -> dict:
    params = {}
    for item in text.split(","):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key or not value.strip():
            raise InputError(f"warp {name}: parameter {item.strip()!r} must look like key=value")
        if key not in allowed:
            valid = ", ".join(allowed) if allowed else "none"
            raise InputError(f"warp {name}: unknown parameter {key!r}; valid parameters: {valid}")
        if key in params:
            raise InputError(f"warp {name}: parameter {key!r} given twice")
        params[key] = value.strip()
    return params


def parse_basis(spec: str, N: int) -> bases.Basis:
    """A basis of ``N`` functions from its SPEC (module docstring).

    For ``functions=...``, ``N`` may be smaller than the number of functions (the first ``N`` are
    used; Gram-Schmidt keeps the order) but not larger.
    """
    spec = _check_text(spec, "basis", _BASIS_HELP)
    N = bases._check_N(N)
    if spec.startswith("functions="):
        items = [s.strip() for s in spec[len("functions="):].split(";")]
        if any(not s for s in items):
            raise InputError(f"basis SPEC {spec!r}: empty function in the list; separate expressions with ';'")
        if N > len(items):
            raise InputError(f"basis SPEC gives {len(items)} functions but N = {N}; give at least N functions")
        try:        # one limit for the whole list: a thousand items of 2 s each would take half an hour
            with time_limit(SPEC_PARSE_SECONDS, own=True):
                exprs = [parse_expression(item, "z", what=f"basis function {i}") for i, item in enumerate(items)]
        except SymbolicTimeout:
            raise InputError(f"basis SPEC: parsing its {len(items)} functions took more than {SPEC_PARSE_SECONDS:g} s; "
                             "give fewer or simpler functions") from None
        return bases.custom(exprs[:N])     # every item was checked, the first N are used
    if spec not in _BASES:
        raise InputError(f"unknown basis {spec!r}; valid: {_BASIS_HELP}")
    return bases.BUILTIN[spec](N)

