"""The lag geometry of a warp, decided once: what a step ``Delta`` does to the coordinate ``z``.

For a stationary warp ``f`` (inverse ``g``) a step ``Delta`` maps the new coordinate ``z`` to the old one

    lambda_Delta(z) = f(g(z) + Delta)       on  0 < z <= z_Delta = f(-Delta)

(docs/math.md, section 2). Every consumer of that fact reads it from one :class:`LagGeometry`
(``warp.geometry``): the model picks its exact lag formula from ``kind`` and the basis coordinate
(:meth:`LagGeometry.exact_lag_kind`), the kernel spec and the banks read ``rate`` / ``window``, and the
kernel printer prints ``lag_map``, ``cutoff`` and ``cutoff_complement`` into the per-step kernels.

Kinds:

- ``"dilation"``: ``lambda_Delta(z) = z / z_Delta`` with ``z_Delta = exp(-rate Delta)`` (``f = exp(rate x)``);
- ``"translation"``: ``lambda_Delta(z) = z + 1 - z_Delta`` with ``z_Delta = 1 - Delta / window``
  (``f = 1 + x / window``);
- ``"general"``: any other stationary warp (power laws, curved windows, ``tanh(x) + 1``, ...).

A time-varying warp (the scale warp, ``time_varying`` True) keeps the kind of its lag at each step (the
scale warp's ``z -> z (t + Delta) / t`` is a dilation) but has no constant, lag map or cutoff here: they
depend on the time ``t`` too.

A dilation or translation whose constant is not confirmed exactly (``rate`` / ``window`` None) keeps its
kind for the exact derivation routes, which use only the structure; the kernels then treat it as general.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from .._limits import SymbolicTimeout, time_limit
from ..symbols import DELTA, X, Y_POS, Z, Z_POS

KINDS = ("dilation", "translation", "general")


@dataclass(frozen=True, eq=False)
class LagGeometry:
    """What a step does to the coordinate (module docstring); expressions in ``Z`` and ``DELTA``."""

    kind: str
    time_varying: bool = False
    rate: sp.Expr | None = None            # dilation: z_Delta = exp(-rate Delta), exact
    window: sp.Expr | None = None          # translation: z_Delta = 1 - Delta / window, exact
    lag_map: sp.Expr | None = None         # lambda_Delta(z) (stationary warps)
    cutoff: sp.Expr | None = None          # z_Delta
    cutoff_complement: sp.Expr | None = None   # 1 - z_Delta, simplified (often free of cancellation at small Delta)
    max_delta: sp.Expr = sp.oo             # the window length of a finite window, else oo
    printable: bool = True                 # every form above finished simplifying (see _simplified)

    def exact_lag_kind(self, coordinate: str | None) -> str | None:
        """The exact lag formula (``symderive.derivation.exact.LAG_KINDS``) for a weight-1 basis polynomial
        in ``coordinate`` (``"z"`` or ``"neglog"``, i.e. ``y = -log z``), or None.

        In ``z`` a dilation or translation of ``z`` is that formula itself; in ``y = -log z`` a dilation
        of ``z`` is the translation ``y -> y + rate Delta`` (``"neglog-translation"``).
        """
        if coordinate == "z" and self.kind in ("dilation", "translation"):
            return self.kind
        if coordinate == "neglog" and self.kind == "dilation":
            return "neglog-translation"
        return None

    @functools.cached_property
    def neglog_forms(self) -> tuple[sp.Expr, sp.Expr, bool]:
        """The lag map and cutoff in the coordinate ``y = -log z`` of log-Laguerre bases, and whether both
        finished simplifying: ``Lambda_Delta(y) = -log lambda_Delta(exp(-y)) = y - log(lambda_Delta(z) / z)``
        at ``z = exp(-y)``, and ``y_Delta = -log z_Delta``. The ratio ``lambda / z`` is simplified in ``z``
        first (hyperbolic functions written with ``exp``), so the large ``y`` of the Laguerre nodes never
        meets a ``log`` of an underflowed ``exp(-y)`` or of a cancelled ``tanh(u) + 1``."""
        hyperbolic = (sp.tanh, sp.sinh, sp.cosh, sp.coth)      # tanh(u) + 1 = 2 / (1 + exp(-2u)): no cancellation
        ratio = (self.lag_map / Z).replace(lambda e: isinstance(e, hyperbolic), lambda e: e.rewrite(sp.exp))
        ratio, ok_ratio = _simplified(ratio, in_z=True)
        lag, ok_lag = _simplified(Y_POS - sp.log(ratio).subs(Z, sp.exp(-Y_POS)))
        cut, ok_cut = _simplified(-sp.log(self.cutoff))
        return lag, cut, ok_ratio and ok_lag and ok_cut

    @property
    def affine_constant(self) -> tuple[str, sp.Expr] | None:
        """``("dilation", rate)`` or ``("translation", window)`` when the constant is exact, else None."""
        if self.kind == "dilation" and self.rate is not None:
            return "dilation", self.rate
        if self.kind == "translation" and self.window is not None:
            return "translation", self.window
        return None


GEOMETRY_SECONDS = 3.0   # each simplification of the geometry: its own limit, not what is left of the budget


def _simplified(expr, in_z: bool = False):
    """``(simplified expr, True)``, or ``(expr, False)`` when SymPy did not finish within GEOMETRY_SECONDS.

    The limit is the step's own (``own=True``), so the printed kernel code does not depend on how much
    of the symbolic budget other steps used before (a fixed limit gives the same result run after run on
    one machine); a form that did not simplify is reported (``LagGeometry.printable``), never printed.
    With ``in_z``, ``z > 0`` is assumed while simplifying (``exp(log z) = z``).
    """
    try:
        with time_limit(GEOMETRY_SECONDS, own=True):
            if in_z:
                return sp.simplify(expr.subs(Z, Z_POS)).subs(Z_POS, Z), True
            return sp.simplify(expr), True
    except SymbolicTimeout:
        return expr, False


def lag_geometry(warp) -> LagGeometry:
    """The :class:`LagGeometry` of ``warp`` (a :class:`~symderive.inputs.warps.Warp`); computed once per
    warp, when it is built (``warp.geometry``).

    The lag map ``f(g(z) + Delta)``, the cutoff ``f(-Delta)`` and ``1 - f(-Delta)`` are simplified from the
    warp's ``f`` and ``g`` here, each under its own time limit (:func:`_simplified`). The constants are
    confirmed symbolically for a free positive ``Delta``, not sampled: a dilation's ``rate = -log z_1``
    must satisfy ``z_d = exp(-rate d)`` for every ``d > 0``, a translation's ``window = d / (1 - z_d)``
    must be a positive constant.
    """
    if warp.time_varying:
        return LagGeometry(kind=warp.structure or "general", time_varying=True)
    lag_map, ok_map = _simplified(warp.f.subs(X, warp.g + DELTA), in_z=True)
    cutoff, ok_cut = _simplified(warp.f.subs(X, -DELTA))
    complement, ok_complement = _simplified(1 - cutoff)
    common = dict(lag_map=lag_map, cutoff=cutoff, cutoff_complement=complement, max_delta=warp.max_delta(),
                  printable=ok_map and ok_cut and ok_complement)
    d = sp.Symbol("d", positive=True)
    if warp.structure == "dilation":
        rate = _simplified(-sp.log(warp.cutoff(sp.Integer(1))))[0]
        exact = (not rate.free_symbols and rate.is_positive
                 and _simplified(warp.cutoff(d) - sp.exp(-rate * d))[0] == 0)
        return LagGeometry(kind="dilation", rate=rate if exact else None, **common)
    if warp.structure == "translation":
        window = _simplified(d / (1 - warp.cutoff(d)))[0]
        exact = not window.free_symbols and window.is_positive
        return LagGeometry(kind="translation", window=window if exact else None, **common)
    return LagGeometry(kind="general", **common)


__all__ = ["KINDS", "LagGeometry", "lag_geometry", "DELTA", "Y_POS", "Z"]
