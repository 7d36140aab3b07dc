"""The closed-form templates of the generator ``(A_gen, B_gen)`` of the built-in pairs, unproved.

This module holds the formulas that :mod:`.closed_forms` presents and checks and that :mod:`.proofs`
proves: the templates in symbolic ``n, k, theta`` (:func:`template`), the map from a warp x basis to
its template (:func:`pair_kind`) and the template at the warp's parameter (:func:`instantiate`). It
imports neither of those two modules, so both can import it: :mod:`.proofs` imports this module, and
:mod:`.closed_forms` imports this module and :mod:`.proofs` (``closed_form(..., prove=True)`` runs the
proof). The formulas are written out in the docstring of :mod:`.closed_forms`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..symbols import K_SYM, N_SYM, THETA

__all__ = ["N_SYM", "K_SYM", "THETA", "ClosedForm", "template", "pair_kind", "instantiate", "mode_index"]


@dataclass(frozen=True)
class ClosedForm:
    """``A_gen[n, k]`` (in :data:`N_SYM`, :data:`K_SYM`) and ``B_gen[n]`` (in :data:`N_SYM`)."""

    A: sp.Expr
    B: sp.Expr
    description: str
    proved_all_n: bool
    pair: str = ""  # e.g. "exponential x legendre"


# --------------------------------------------------------------------------- templates

def _odd(x):
    return sp.Eq(sp.Mod(x, 2), 1)


def _even(x):
    return sp.Eq(sp.Mod(x, 2), 0)


def mode_index(x):
    """The Fourier mode index ``m(x) = ceiling(x/2)``: index ``2m-1`` is cos, ``2m`` is sin."""
    return sp.ceiling(x / sp.Integer(2))


def _templates() -> dict:
    n, k, th = N_SYM, K_SYM, THETA
    s = sp.sqrt(2 * n + 1) * sp.sqrt(2 * k + 1)
    r2 = sp.sqrt(2)
    mn, mk = mode_index(n), mode_index(k)
    a_n = sp.Piecewise((1, sp.Eq(n, 0)), (r2, _odd(n)), (0, True))  # p_n(1)
    return {
        ("exponential", "legendre"): (
            sp.Piecewise((-th * s, n > k), (-th * (n + 1), sp.Eq(n, k)), (0, True)),
            th * sp.sqrt(2 * n + 1),
            "HiPPO-LegS, negated (exponential warp x shifted Legendre)"),
        ("linear", "legendre"): (
            sp.Piecewise((-s / th, n >= k), (-(-1) ** (n - k) * s / th, True)),
            sp.sqrt(2 * n + 1) / th,
            "HiPPO-LegT, orthonormal (linear warp x shifted Legendre)"),
        ("exponential", "laguerre"): (
            sp.Piecewise((-th, n >= k), (0, True)),
            th,
            "HiPPO-LagT, negated (exponential warp x log-Laguerre)"),
        ("linear", "fourier"): (
            sp.Piecewise(
                (-1 / th, sp.Eq(n, 0) & sp.Eq(k, 0)),
                (-r2 / th, (sp.Eq(n, 0) & _odd(k)) | (_odd(n) & sp.Eq(k, 0))),
                (-2 / th, _odd(n) & _odd(k)),
                (2 * sp.pi * mk / th, _odd(n) & sp.Eq(k, n + 1)),
                (-2 * sp.pi * mn / th, _even(n) & (n > 0) & sp.Eq(k, n - 1)),
                (0, True)),
            sp.Piecewise((1 / th, sp.Eq(n, 0)), (r2 / th, _odd(n)), (0, True)),
            "Lag-operator Fourier window (linear warp x Fourier basis 1, sqrt2 cos 2 pi m z, "
            "sqrt2 sin 2 pi m z; m(n) = ceiling(n/2)); FouT-like, but with one endpoint: HTTYH's FouT "
            "has -2 a_n a_k and B = 2 a_n"),
        ("exponential", "fourier"): (
            sp.Piecewise(
                (-th, sp.Eq(n, 0) & sp.Eq(k, 0)),
                (-r2 * th, _odd(n) & sp.Eq(k, 0)),
                (0, sp.Eq(n, 0) | sp.Eq(k, 0)),
                (-3 * th / 2, _odd(n) & sp.Eq(k, n)),
                (-th / 2, _even(n) & sp.Eq(k, n)),
                (2 * th * mn**2 / (mk**2 - mn**2), _odd(n) & _odd(k)),
                (2 * th * mn * mk / (mk**2 - mn**2), _even(n) & _even(k)),
                (sp.pi * th * mk, _odd(n) & sp.Eq(k, n + 1)),
                (-sp.pi * th * mn, _even(n) & sp.Eq(k, n - 1)),
                (0, True)),
            th * a_n,
            "exponential warp x Fourier basis 1, sqrt2 cos 2 pi m z, sqrt2 sin 2 pi m z "
            "(m(n) = ceiling(n/2)): rational entries plus pi m on the cos/sin pairs"),
    }


_TEMPLATES = _templates()

_NAMES = {"legendre": "shifted Legendre", "laguerre": "log-Laguerre", "fourier": "Fourier"}


def pair_kind(warp, basis) -> tuple[str, str, sp.Expr] | None:
    """``(warp kind, basis kind, theta)`` for a built-in pair with a closed form, else None.

    The scale warp maps to the exponential warp of rate 1 (its generator is reported at t = 1)."""
    bname = getattr(basis, "name", None)
    if bname not in _NAMES:
        return None
    if bname == "fourier" and not _standard_fourier(basis):
        return None
    wname = getattr(warp, "name", None)
    if wname == "scale":
        kind, theta = "exponential", sp.S.One
    elif wname == "exponential":
        kind, theta = "exponential", warp.params.get("rate", sp.S.One)
    elif wname == "linear":
        kind, theta = "linear", warp.params.get("window", sp.S.One)
    else:
        return None
    if (kind, bname) not in _TEMPLATES:
        return None
    return kind, bname, theta


def _standard_fourier(basis) -> bool:
    modes = getattr(basis, "fourier_modes", None)
    if modes is None:
        return False
    return all(tuple(mode) == (("cos", 0) if n == 0 else ("cos" if n % 2 else "sin", (n + 1) // 2))
               for n, mode in enumerate(modes))


def template(warp_kind: str, basis_kind: str) -> tuple[sp.Expr, sp.Expr, str] | None:
    """``(A, B, description)`` with the parameter as the symbol :data:`THETA`, or None."""
    return _TEMPLATES.get((warp_kind, basis_kind))


def instantiate(warp, basis) -> ClosedForm | None:
    """The template of ``warp`` x ``basis`` at the warp's parameter, with ``proved_all_n`` False (the
    proof is :func:`.proofs.prove`; :func:`.closed_forms.closed_form` combines the two), or None
    (custom inputs, linear x laguerre)."""
    key = pair_kind(warp, basis)
    if key is None:
        return None
    kind, bname, theta = key
    A, B, description = _TEMPLATES[(kind, bname)]
    A = sp.piecewise_fold(A.subs(THETA, theta))
    B = sp.piecewise_fold(B.subs(THETA, theta))
    if warp.name == "scale":
        description = ("original scale-invariant HiPPO-LegS at t = 1 (dc/dt = (A_gen c + B_gen u)/t); "
                       if bname == "legendre" else "scale warp at t = 1 (dc/dt = (A_gen c + B_gen u)/t), "
                       "same as the exponential warp of rate 1: ") + description
    elif theta != 1:
        description += f", {'rate' if kind == 'exponential' else 'window'} theta = {sp.sstr(theta)}"
    return ClosedForm(A, B, description, False, f"{warp.name} x {bname}")
