"""The bank spec: R independent stationary lag models at one fixed step, as plain data.

A *bank* is one model made of members ``r = 0 .. R-1``, each a stationary warp x basis with its own
lag matrices ``A_r = A_Delta``, ``B_r = B_Delta`` at the **same** step ``Delta``. The state is the
concatenation of the member states (member ``r`` at ``OFFSETS[r] .. OFFSETS[r] + SIZES[r] - 1``), so
the bank recurrence ``c <- A c + B u`` has a block-diagonal ``A`` (block ``r``: ``A_r``) and the stacked
``B``; every member sees the same input. A bank of exponential warps at several rates is a
multi-resolution memory: fast members resolve the recent history finely, slow ones cover long
horizons, and ``history`` reconstructs the past at every horizon at once.

``build_bank_spec(models, delta, name)`` builds every member's :class:`~.spec.KernelSpec` with
:func:`~.spec.build_spec` (matrices rounded **once** from certified values) and adds what the bank
needs to map a lag back to each member's coordinate ``z = f_r(-lag)``:

- ``"dilation"`` members (exponential warps, also a custom ``f`` equal to ``exp(rate x)``):
  ``z = exp(-rate * lag)``, defined for every lag >= 0;
- ``"translation"`` members (linear windows, ``f = 1 + x / window``): ``z = 1 - lag / window``,
  defined for ``0 <= lag <= window`` only (the member holds nothing older; ``history`` gives NaN there).

Rules (each refusal is an :class:`~symderive.errors.InputError` naming the member and what is valid):

- at least 2 members (one model is a single package: ``export`` / ``symderive export`` with one
  ``--warp``), at most ``MAX_MEMBERS``; at most ``MAX_TOTAL_STATES`` states in all (``A`` is stored
  dense, ``S x S``, in the package);
- every member stationary (the time-varying ``scale`` warp has no fixed ``A_Delta``), with a lag map
  that is a dilation or a window translation of ``z`` (any other warp is refused);
- one basis for all members (same SPEC and ``N``): one basis table and one quadrature rule serve
  every block, and ``reconstruct`` evaluates the basis once for all members;
- ``Delta > 0`` and smaller than every member's window;
- no two members with the same lag map (they would only duplicate states).

The hash is the SHA-256 of the canonical JSON (floats as ``float.hex``; the member specs included),
so equal banks give byte-identical packages.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass

import sympy as sp

from ..derivation.model import LagModel
from ..errors import InputError
from ..inputs.warps import exact_rate_or_window
from .spec import _canonical, build_spec, check_name

BANK_SPEC_VERSION = 1
MAX_MEMBERS = 64
MAX_TOTAL_STATES = 1024      # A is S x S float64 in the package: 8 MiB at the limit


@dataclass(frozen=True)
class BankSpec:
    """Plain data for one generated bank package (module docstring). Per-member fields are tuples."""

    name: str
    delta: float
    delta_exact: str
    members: tuple                 # KernelSpec per member, in the order given
    kinds: tuple                   # "dilation" or "translation" per member
    rates: tuple                   # dilation: z = exp(-rate lag); None for windows
    rates_exact: tuple             # the exact rate (SymPy text), or None
    windows: tuple                 # translation: z = 1 - lag / window; None for dilations
    windows_exact: tuple
    sizes: tuple                   # states per member
    offsets: tuple                 # first state of each member in the bank state
    spec_version: int = BANK_SPEC_VERSION

    @property
    def N(self) -> int:
        """Total number of states S = sum of the member sizes."""
        return int(sum(self.sizes))

    @property
    def R(self) -> int:
        return len(self.members)

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, floats as ``float.hex`` (exact and platform independent)."""
        return json.dumps(_canonical(asdict(self)), sort_keys=True, separators=(",", ":"))

    @functools.cached_property
    def hash(self) -> str:
        """SHA-256 of :meth:`to_json` (computed once: the spec is frozen)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()


def _label(index: int, model: LagModel) -> str:
    return f"bank member {index + 1} ({model.warp.spec})"


def member_geometry(model: LagModel, index: int = 0) -> tuple[str, sp.Expr]:
    """``("dilation", rate)`` or ``("translation", window)`` of a member's warp (exact, from
    :func:`~symderive.inputs.warps.exact_rate_or_window`), or an InputError that says which members a bank
    takes."""
    warp = model.warp
    label = _label(index, model)
    if warp.time_varying:
        raise InputError(f"{label}: the {warp.spec} warp is time-varying (each step t -> t + 1 has its own A_t), so "
                         "it has no fixed A_Delta to be a block of a fixed-step bank; bank members must be "
                         "stationary: exponential[:rate=R] or linear[:window=W]")
    unsupported = (f"{label}: its lag map is neither a dilation z -> exp(-rate Delta) z (exponential warp) nor "
                   "a window translation z -> z - Delta / window (linear warp), so the bank cannot map a lag "
                   "back to its coordinate; supported members: exponential[:rate=R] (or f=EXPR equal to "
                   "exp(rate*x)) and linear[:window=W]")
    geometry = exact_rate_or_window(warp)
    if geometry is None:
        raise InputError(unsupported)
    return geometry


def build_bank_spec(models, delta, name: str) -> BankSpec:
    """The :class:`BankSpec` of ``models`` (a list of :class:`LagModel`) at the fixed step ``delta``.

    ``delta`` is a positive number or exact text (``"1/100"``), the same for every member. Cheap checks
    (members, geometry, basis, duplicates, sizes, ``Delta`` against the windows) run before any matrix
    is rounded.
    """
    name = check_name(name)
    if isinstance(models, LagModel) or not isinstance(models, (list, tuple)):
        raise InputError("a bank needs a list of at least 2 models (one per member); for one model export a "
                         "single package (export, or symderive export with one --warp)")
    models = list(models)
    if any(not isinstance(m, LagModel) for m in models):
        bad = next(type(m).__name__ for m in models if not isinstance(m, LagModel))
        raise InputError(f"bank members must be LagModel objects (symderive.derive(warp, basis)), got a {bad}")
    if len(models) < 2:
        raise InputError(f"a bank needs at least 2 members, got {len(models)}; for one model export a single "
                         "package (export, or symderive export with one --warp)")
    if len(models) > MAX_MEMBERS:
        raise InputError(f"a bank has at most {MAX_MEMBERS} members, got {len(models)}")
    geometry = [member_geometry(m, i) for i, m in enumerate(models)]
    first = models[0]
    for i, m in enumerate(models[1:], start=1):
        if (m.basis.spec, m.N) != (first.basis.spec, first.N):
            raise InputError(f"{_label(i, m)}: every member must use the same basis (one basis table and quadrature "
                             f"rule serve all blocks): member 1 has {first.basis.spec} with N={first.N}, member "
                             f"{i + 1} has {m.basis.spec} with N={m.N}")
    seen = {}
    for i, (kind, value) in enumerate(geometry):
        key = (kind, value)
        if key in seen:
            what = "rate" if kind == "dilation" else "window"
            raise InputError(f"{_label(i, models[i])}: members {seen[key] + 1} and {i + 1} have the same lag map "
                             f"({kind}, {what} {sp.sstr(value)}), so their states would be identical; remove one")
        seen[key] = i
    total = sum(m.N for m in models)
    if total > MAX_TOTAL_STATES:
        raise InputError(f"a bank has at most {MAX_TOTAL_STATES} states in all (A is stored dense), got "
                         f"{len(models)} members x N={first.N} = {total}")
    if delta is None:
        raise InputError("a bank has a fixed step: give --delta (a number > 0, smaller than every window)")
    for i, m in enumerate(models):
        try:
            exact_delta = m._check_delta(delta, None)
        except InputError as exc:
            raise InputError(f"{_label(i, m)}: {exc}") from None
        if exact_delta.free_symbols:
            raise InputError(f"--delta must be a number, got {delta!r}")
    members = []
    for i, m in enumerate(models):
        try:
            spec = build_spec(m, delta, f"member{i}")
        except InputError as exc:
            raise InputError(f"{_label(i, m)}: {exc}") from None
        members.append(spec)
    exacts = {s.delta_exact for s in members}
    if len(exacts) != 1:                                           # pragma: no cover - one delta for all
        raise InputError(f"bank members disagree on the step: {sorted(exacts)}")
    sizes = tuple(int(s.N) for s in members)
    offsets = tuple(int(sum(sizes[:i])) for i in range(len(sizes)))
    kinds = tuple(kind for kind, _ in geometry)

    def number(value):
        return float(sp.N(value, 30))

    return BankSpec(
        name=name, delta=members[0].delta, delta_exact=members[0].delta_exact, members=tuple(members), kinds=kinds,
        rates=tuple(number(v) if k == "dilation" else None for k, v in geometry),
        rates_exact=tuple(sp.sstr(v) if k == "dilation" else None for k, v in geometry),
        windows=tuple(number(v) if k == "translation" else None for k, v in geometry),
        windows_exact=tuple(sp.sstr(v) if k == "translation" else None for k, v in geometry),
        sizes=sizes, offsets=offsets)
