"""Gauss rules of the generated kernels, computed in ball arithmetic and rounded once to float64.

The kernels' quadrature nodes and weights come from the numeric route's rules
(:func:`symderive.derivation.quadrature.gauss_legendre`, :func:`~symderive.derivation.quadrature.gauss_laguerre`)
at 200 bits, rounded once from their midpoints, so a package depends on its spec alone.
"""

from __future__ import annotations

import functools

from ..derivation import quadrature
from ..derivation.arb_eval import midpoint

SMALLEST_WEIGHT = 1e-290    # Gauss-Laguerre weights below this are too close to float64 underflow
_RULE_BITS = 200   # the rules are computed at this precision, then rounded once to float64


def _rounded(values) -> tuple:
    """Balls rounded once to the nearest float64 (from their exact midpoints, as mpmath rounds)."""
    return tuple(float(midpoint(x)) for x in values)


@functools.lru_cache(maxsize=32)
def gauss_legendre_01(N: int) -> tuple[tuple, tuple]:
    """``N``-point Gauss-Legendre nodes (ascending) and weights on [0, 1], rounded once from the numeric
    route's ball rule (:func:`symderive.derivation.quadrature.gauss_legendre`; cached: every member of a
    bank asks for the same rule)."""
    nodes, weights = quadrature.gauss_legendre(N, _RULE_BITS)
    return _rounded(nodes), _rounded(weights)


@functools.lru_cache(maxsize=32)
def gauss_laguerre(N: int) -> tuple[tuple, tuple]:
    """``N``-point Gauss-Laguerre nodes and weights (weight ``e^{-u}`` on [0, oo)), rounded once from the
    numeric route's ball rule (:func:`symderive.derivation.quadrature.gauss_laguerre`). Weights below
    float64's range round to 0 (the caller checks the smallest)."""
    nodes, weights = quadrature.gauss_laguerre(N, _RULE_BITS)
    return _rounded(nodes), _rounded(weights)


