"""``verify(warp, basis, family, N)``: an exact verdict with a certificate a reviewer can check.

Steps, each timed and recorded in the certificate:

1. derive the generator ``(A_gen, B_gen)`` of the warp x basis (exact route only: a float path cannot
   produce a verdict, because floats are rejected by :class:`~.exact_numbers.Exact`);
2. build the family's published matrices exactly (:mod:`.families`);
3. compare in normal form (:mod:`.equivalence`): ``identical``, ``equivalent`` (forced time rescaling,
   diagonal similarity and tilt, reported) or ``not-equivalent`` (with the difference: its rank, the
   failing entry, and a formula in ``n, k`` when both sides have one);
4. for built-in pairs: the closed form of ``A_gen[n, k]``, ``B_gen[n]`` checked exactly for every
   ``n, k < N``, and a proof for all ``n`` where one exists (:mod:`.closed_forms`, :mod:`.proofs`);
5. the structural theorem (:mod:`.structure`): do lag steps compose, and is the lag recurrence the
   zero-order hold of the generator?
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field

import sympy as sp

from .._version import __version__
from .._limits import SymbolicTimeout, time_limit
from ..derivation.model import derive
from ..errors import DerivationError
from . import closed_forms, proofs
from .derived import generator_exact
from .equivalence import NOT_EQUIVALENT, compare, exact_rank
from .exact_numbers import NotExact
from .families import Family
from .structure import decide_structure


@dataclass
class Certificate:
    """Everything ``symderive verify`` reports; :meth:`to_dict` is the JSON form, :meth:`to_markdown` the text."""

    inputs: dict
    verdict: str
    transformation: dict | None
    difference: dict | None
    steps: list = field(default_factory=list)
    closed_form: dict | None = None
    structure: dict | None = None
    timings: dict = field(default_factory=dict)

    @property
    def N(self) -> int:
        return self.inputs["N"]

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict, "exact": True, "transformation": self.transformation, "N": self.N,
            "difference": self.difference, "inputs": self.inputs, "route": self.inputs["route"],
            "N_range": f"0 <= n, k < {self.N}; the bases are nested (the first N' functions do not depend "
                       f"on N), so this covers every N' <= {self.N}",
            "steps": self.steps, "closed_form": self.closed_form, "structure": self.structure,
            "timings": self.timings,
            "software": {"symderive": __version__, "sympy": sp.__version__, "python": platform.python_version()},
        }

    def to_markdown(self) -> str:
        return certificate_markdown(self.to_dict())


def _timed(timings: dict, key: str, fn, *args, **kwargs):
    start = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    finally:
        timings[key] = round(time.perf_counter() - start, 3)


@dataclass(frozen=True)
class ExactGenerator:
    """The derived generator of one warp x basis pair, computed once and shared by every family."""

    model: object
    A: list
    B: list
    route: str
    seconds: float  # time of the exact conversion (the ``derive_generator`` timing)


@dataclass(frozen=True)
class FamilyMatrices:
    """A family's exact matrices at one N, computed once and shared by every warp x basis pair."""

    A: list
    B: list
    seconds: float  # the ``family_matrices`` timing


def exact_generator(warp, basis) -> ExactGenerator:
    """Derive ``warp x basis`` and convert its generator to exact normal form (step 1).

    Raises :class:`DerivationError` when the generator has no exact form (then no verdict is possible)."""
    model = derive(warp, basis)
    model.check_cost(["verify"])    # refuse up front what would run past the budget
    start = time.perf_counter()
    try:
        A, B, route = generator_exact(model)
    except NotExact as exc:
        raise DerivationError(f"the generator of {warp.spec} x {basis.spec} is not in exact normal form ({exc}); "
                              "no exact verdict is possible") from None
    return ExactGenerator(model, A, B, route, round(time.perf_counter() - start, 3))


def family_matrices(family: Family, N: int) -> FamilyMatrices:
    """``family``'s exact matrices at ``N`` (step 2); raises :class:`InputError` where it is not defined."""
    start = time.perf_counter()
    AF, BF = family.matrices(N)
    return FamilyMatrices(AF, BF, round(time.perf_counter() - start, 3))


def verify(warp, basis, family: Family, *, details: bool = True, delta=None, t=None) -> Certificate:
    """Exact verdict of ``warp x basis`` against ``family`` at ``N = basis.N`` (module docstring).

    ``details=False`` skips the closed form, proof and structure steps (the ``--all`` table).
    ``delta`` (optional) adds the measured distance of the lag recurrence from ODE discretizations
    (time-varying warps: for the step ``t -> t + delta``, so ``t`` is needed too).
    Raises :class:`DerivationError` when the generator has no exact form (then no verdict is possible).

    Derives the pair and builds the family's matrices, then calls :func:`verify_derived`; callers that
    compare many pairs with many families (:func:`.table.equivalence_table`) compute each once instead.
    """
    generator = exact_generator(warp, basis)
    return verify_derived(warp, basis, family, generator, family_matrices(family, basis.N),
                          details=details, delta=delta, t=t)


def verify_derived(warp, basis, family: Family, generator: ExactGenerator, matrices: FamilyMatrices, *,
                   details: bool = True, delta=None, t=None) -> Certificate:
    """:func:`verify` with the generator (:func:`exact_generator`) and the family's matrices at
    ``basis.N`` (:func:`family_matrices`) already computed; their recorded timings are reported."""
    N = basis.N
    if len(generator.A) != N or len(matrices.A) != N:
        raise ValueError(f"verify_derived: the generator ({len(generator.A)}) and the family's matrices "
                         f"({len(matrices.A)}) must both have N = basis.N = {N} rows")
    timings: dict = {"derive_generator": generator.seconds, "family_matrices": matrices.seconds}
    A, B, route, model = generator.A, generator.B, generator.route, generator.model
    AF, BF = matrices.A, matrices.B
    result = _timed(timings, "compare", compare, A, B, AF, BF)
    inputs = {"warp": warp.spec, "basis": basis.spec, "family": family.spec, "family_title": family.title,
              "family_source": family.source, "convention": family.convention, "N": N, "route": route}
    steps = [
        {"step": "derive", "statement": f"A_gen, B_gen of {warp.spec} x {basis.spec} at N = {N} by {route} "
                                        "(docs/math.md, section 3), entries in exact normal form "
                                        "sum r sqrt(h) pi^e", "status": "exact",
         "seconds": timings["derive_generator"]},
        {"step": "family", "statement": f"{family.spec}: {family.title}; source: {family.source}",
         "status": "exact", "seconds": timings["family_matrices"]},
    ] + [dict(s, step="compare") for s in result.steps]
    difference = None
    if result.verdict == NOT_EQUIVALENT:
        difference = _difference(A, B, AF, BF, result, warp, basis, family, timings, formula=details)
    cert = Certificate(inputs=inputs, verdict=result.verdict, transformation=result.transformation(),
                       difference=difference, steps=steps, timings=timings)
    if details:
        _add_closed_form(cert, warp, basis, model, (A, B), timings)
        _add_structure(cert, model, delta, t, timings)
    timings["total"] = round(sum(v for k, v in timings.items() if k != "total"), 3)
    return cert


def verify_spec(warp, basis, against, **kwargs) -> Certificate:
    """:func:`verify` with the family given by its SPEC string (``"legs"``, ``"legt:window=2"``) or object."""
    from .families import parse_family
    fam = against if isinstance(against, Family) else parse_family(against)
    return verify(warp, basis, fam, **kwargs)


def _difference(A, B, AF, BF, result, warp, basis, family, timings, formula=True) -> dict:
    start = time.perf_counter()
    D = [[x - y for x, y in zip(r1, r2)] for r1, r2 in zip(A, AF)]
    dB = [x - y for x, y in zip(B, BF)]
    out = dict(result.failure or {})
    out["A_minus_family_rank"] = exact_rank(D)
    out["A_minus_family_nonzero_entries"] = sum(1 for row in D for x in row if not x.is_zero)
    out["B_minus_family_nonzero_entries"] = sum(1 for x in dB if not x.is_zero)
    out["formula"] = None
    cf = closed_forms.closed_form(warp, basis, prove=False) if formula else None
    if cf is not None:
        out["formula"] = {"A_gen - A_family": _difference_formula(cf.A, family.A_formula),
                          "B_gen - B_family": _difference_formula(cf.B, family.B_formula)}
    timings["difference"] = round(time.perf_counter() - start, 3)
    return out


def _difference_formula(derived: sp.Expr, published: sp.Expr) -> str:
    """``derived - published`` in ``n, k``, simplified when SymPy manages within a short time limit.

    Display only (the verdict never depends on it): SymPy's Piecewise simplification can be slow or
    raise on some case structures, so any failure falls back to the unsimplified difference."""
    difference = derived - published
    try:
        with time_limit(3):
            return sp.sstr(sp.simplify(sp.piecewise_fold(difference)))
    except (SymbolicTimeout, Exception):  # noqa: BLE001 - cosmetic step, see docstring
        return sp.sstr(difference)


def _add_closed_form(cert: Certificate, warp, basis, model, derived, timings) -> None:
    """The closed form, its exact check against ``derived = (A_gen, B_gen)`` and its proof."""
    start = time.perf_counter()
    cf = closed_forms.closed_form(warp, basis)       # runs the proof: cf.proved_all_n is its verdict
    if cf is None:
        cert.closed_form = {"available": False,
                            "statement": "no closed form in n, k is known to symderive for this pair"}
        timings["closed_form"] = round(time.perf_counter() - start, 3)
        return
    proof = proofs.prove(warp, basis)                  # the same proof, from prove's cache, for its steps
    check = closed_forms.check_closed_form(cf, model, derived=derived)
    proved = bool(cf.proved_all_n and check["ok"])
    cert.closed_form = {
        "available": True, "description": cf.description,
        "A_gen[n,k]": sp.sstr(cf.A), "B_gen[n]": sp.sstr(cf.B),
        "text": closed_forms.format_closed_form(cf),
        "check": {k: v for k, v in check.items() if k != "mismatches"} | {"mismatches": [list(map(str, m)) for m in check.get("mismatches", [])]},
        "proof": proof.to_dict() if proof is not None else None,
        "status": ("proved for all n" if proved else
                   f"checked exactly for n, k < {cert.N}" if check["ok"] else "FAILED the exact check"),
    }
    cert.steps.append({"step": "closed form", "statement": f"A_gen[n,k] = {sp.sstr(cf.A)}; B_gen[n] = {sp.sstr(cf.B)}",
                       "status": cert.closed_form["status"], "seconds": round(time.perf_counter() - start, 3)})
    timings["closed_form"] = round(time.perf_counter() - start, 3)


def _add_structure(cert: Certificate, model, delta, t, timings) -> None:
    report = _timed(timings, "structure", decide_structure, model, delta=delta, t=t)
    cert.structure = report.to_dict()
    cert.steps.append({"step": "structure", "statement": report.reason,
                       "status": "exact" if report.exact else "not decided exactly",
                       "seconds": timings["structure"]})


# ------------------------------------------------------------------ markdown

def certificate_markdown(d: dict) -> str:
    """The certificate as Markdown (inputs, verdict, transformation or difference, steps, timings)."""
    inp = d["inputs"]
    lines = [f"# symderive certificate: {inp['warp']} x {inp['basis']} against {inp['family']}", "",
             f"**Verdict: {d['verdict']}** (decided in exact arithmetic, N = {d['N']})", "",
             "| input | value |", "|---|---|"]
    for key in ("warp", "basis", "family", "family_title", "family_source", "convention", "N", "route"):
        lines.append(f"| {key} | {str(inp[key]).replace('|', '/')} |")
    lines += ["", f"Range: {d['N_range']}.", ""]
    if d["transformation"]:
        t = d["transformation"]
        lines += ["## Transformation", "", f"`{t['form']}`", "",
                  f"- time scale a = `{t['time_scale']}`", f"- tilt c = `{t['tilt']}`",
                  f"- diagonal d_n = `{t['diagonal_formula'] or t['diagonal']}`",
                  f"- components: {', '.join(t['components']) or 'none'}", ""]
    if d["difference"]:
        diff = d["difference"]
        lines += ["## Difference", "", f"- {diff.get('reason', '')}"]
        for key in ("entry", "derived", "family", "family_transformed", "A_minus_family_rank",
                    "A_minus_family_nonzero_entries", "B_minus_family_nonzero_entries"):
            if key in diff:
                lines.append(f"- {key}: `{diff[key]}`")
        if diff.get("formula"):
            for key, value in diff["formula"].items():
                lines.append(f"- {key} = `{value}`")
        lines.append("")
    cf = d.get("closed_form")
    if cf:
        lines += ["## Closed form", ""]
        if cf.get("available"):
            lines += [f"{cf['description']}", "", "```", cf["text"], "```", "", f"Status: **{cf['status']}**.", ""]
            proof = cf.get("proof")
            if proof:
                lines += [f"Proof ({'all n' if proof.get('proved_all_n') else 'incomplete'}):", ""]
                lines += [f"{i + 1}. {s['statement']} ({s.get('method', '')}; {s['status']})"
                          for i, s in enumerate(proof.get("steps", []))]
                lines.append("")
        else:
            lines += [cf["statement"], ""]
    st = d.get("structure")
    if st:
        lines += ["## Structure", "", st.get("reason", ""), ""]
        lines += [f"- {s['statement']} ({s.get('method', '')}; {s['status']})" for s in st.get("steps", [])]
        if st.get("discrepancy"):
            lines += ["", "Measured distance from ODE discretizations:", ""]
            lines += [f"- {k}: {v}" for k, v in st["discrepancy"].items()]
        lines.append("")
    lines += ["## Steps", "", "| # | step | statement | status | seconds |", "|---|---|---|---|---|"]
    for i, s in enumerate(d["steps"]):
        statement = str(s["statement"]).replace("|", "/")
        lines.append(f"| {i + 1} | {s.get('step', '')} | {statement} | {s['status']} | {s.get('seconds', '')} |")
    lines += ["", "Timings (s): " + ", ".join(f"{k} {v}" for k, v in d["timings"].items()), "",
              "Software: " + ", ".join(f"{k} {v}" for k, v in d["software"].items()), ""]
    return "\n".join(lines)
