"""Render a :class:`~symderive.codegen.bank.BankSpec` into the files of one generated bank package.

``render_bank(spec)`` returns ``{relative path: file text}``, like :func:`.render.render_package`, from
the templates in ``templates/bank/``. A bank is made of the single packages' parts: the per-basis
evaluation (``templates/package/basis/``), the per-step quadrature forms (``templates/package/variable/``),
the input checks (``templates/package/_checks.py.jinja``) and the CUDA runtime are included as they are,
and every kernel is written once for both (``templates/package/cpu/fixed_blocks``, ``steps``, ``history``,
``templates/package/cuda/fixed_stationary``): a single package is the one-block case, a bank has one
block per member (``bank`` and :func:`.render.block_layout` in the context). Every number and decision
is made here, with :mod:`.printing` and the public functions of :mod:`.render`; the output depends on
the spec alone.
"""

from __future__ import annotations

from .bank import BankSpec
from .printing import (comment_text, float_literal, grouped, matrix_lines, optional_float, optional_text,
                       string_literal_lines, tuple_literal, vector)
from .render import basis_parts, block_layout, environment, no_variable_reason

# generated file -> the template that emits it (plus one _lag_<kind>.py per per-step lag kind in use)
BANK_FILES = {
    "__init__.py": "bank/__init__.py.jinja",
    "_data.py": "bank/_data.py.jinja",
    "_checks.py": "package/_checks.py.jinja",
    "_basis.py": "bank/_basis.py.jinja",
    "_cpu.py": "bank/_cpu.py.jinja",
    "_cuda.py": "bank/_cuda.py.jinja",
    "torch.py": "package/torch.py.jinja",
}
LAG_TEMPLATE = "bank/_lag.py.jinja"
# per-step lag kinds of the members -> the code the kernels dispatch on (a float: CPU and CUDA alike)
VARIABLE_CODES = {"dilation": "0.0", "translation": "1.0", "neglog": "2.0"}


def render_bank(spec: BankSpec) -> dict[str, str]:
    """``{relative file path inside the package: file text}`` for the bank ``spec`` (deterministic)."""
    context = bank_context(spec)
    env = environment()
    files = {path: env.get_template(template).render(context) for path, template in BANK_FILES.items()}
    for module in context["variable_modules"]:
        files[module["file"]] = env.get_template(LAG_TEMPLATE).render({**context, "module": module})
    return dict(sorted(files.items()))


def _member_geometry_text(spec: BankSpec, r: int) -> str:
    """How member ``r`` maps a lag to its coordinate, for docstrings."""
    if spec.kinds[r] == "dilation":
        return f"dilation, rate {comment_text(spec.rates_exact[r])}: z = exp(-rate * lag)"
    return (f"translation, window {comment_text(spec.windows_exact[r])}: z = 1 - lag / window for "
            "lag <= window, nothing older")


def _variable(spec: BankSpec) -> tuple[bool, list[str], str]:
    """(scan_variable available, the per-step lag kinds in use (sorted), the reason when not)."""
    missing = [(r, m) for r, m in enumerate(spec.members) if m.variable_kind not in VARIABLE_CODES]
    if missing:
        r, member = missing[0]
        if member.variable_kind is None:
            why = f"has no per-step form: {no_variable_reason(member)}"
        else:
            why = (f"has a per-step form ({member.variable_kind}) that banks do not dispatch (they take "
                   f"{', '.join(VARIABLE_CODES)}); use scan with the fixed step DELTA")
        return False, [], f"bank member {r + 1} ({member.warp} x {member.basis}) {why}"
    kinds = sorted({m.variable_kind for m in spec.members}, key=list(VARIABLE_CODES).index)
    return True, kinds, ""


def _usage_lines(spec: BankSpec, variable: bool) -> list[str]:
    lines = ["u = np.random.default_rng(0).standard_normal((1000, 4))   # L = 1000 steps, H = 4 channels",
             "states = m.scan(u)                     # (1000, 4, N): all members, concatenated",
             "last = m.scan_final(u)                 # (4, N)",
             "c = m.step(last, u[-1])               # one more step: A c + B u",
             "same = m.conv(u)                       # all states by FFT convolution with kernel(L) = rows A^k B",
             "past = m.history(last, [0.0, 0.1, 1.0])   # (4, R, 3): u(t - lag) as each member remembers it",
             "values = m.reconstruct(last, np.linspace(0.0, 1.0, 50))   # (4, R, 50): sum_n c_rn p_n(z)"]
    if variable:
        lines.append(f"varied = m.scan_variable(u, np.full(1000, {float_literal(spec.delta)}))   # a per-step Delta_t")
    else:
        lines.append("# scan_variable raises NotImplementedError for this bank (see _cpu.NO_VARIABLE_REASON)")
    lines.append("gpu = m.scan_cuda(u)                   # numba.cuda (NUMBA_ENABLE_CUDASIM=1: the simulator)")
    return lines


def _derivative(spec: BankSpec, variable: bool) -> dict:
    """The reverse-mode values of a bank: every member on the closed d/dDelta route (its G_int and p(1) on its
    block: G_INT is block diagonal), or the first reason one is not."""
    reason = None
    if not variable:
        reason = "the bank has no per-step Delta (scan_variable), so there is nothing to differentiate"
    else:
        for r, m in enumerate(spec.members):
            if m.derivative_route != "closed":
                reason = f"member {r} ({m.warp}): " + (m.derivative_note or f"its d/dDelta route is {m.derivative_route}")
                break
    if reason is not None:
        return {"derivative_route": None, "derivative_route_text": "None", "G_int": [], "p_one": [],
                "no_derivative_reason": string_literal_lines(reason), "bridge_blocks": False}
    N = spec.N
    G = [[0.0] * N for _ in range(N)]
    p_one = []
    for r, m in enumerate(spec.members):
        o = spec.offsets[r]
        for i, row in enumerate(m.G_int):
            for j, x in enumerate(row):
                G[o + i][o + j] = x
        p_one += list(m.p_one)
    # the block adjoint (package/cpu/adjoint.py.jinja) exists for the dilation and translation forms
    blocks = all(m.variable_kind in ("dilation", "translation") for m in spec.members)
    return {"derivative_route": "closed", "derivative_route_text": repr("closed"), "G_int": matrix_lines(G),
            "p_one": grouped(vector(p_one)), "no_derivative_reason": [], "bridge_blocks": blocks}


def bank_context(spec: BankSpec) -> dict:
    """Every value the bank templates print, as ready-to-print strings, and the templates to include."""
    first = spec.members[0]
    R, NM = spec.R, int(first.N)
    variable, variable_kinds, reason = _variable(spec)
    basis_values = basis_parts(first, quadrature=variable)   # one basis and one N for all members (build_bank_spec)
    warps = ", ".join(comment_text(m.warp) for m in spec.members)
    basis = comment_text(first.basis)
    delta_text = comment_text(spec.delta_exact)
    members = []
    for r, m in enumerate(spec.members):
        members.append({
            "items": [
                ("'warp'", repr(m.warp)), ("'basis'", repr(m.basis)), ("'N'", str(int(m.N))),
                ("'offset'", str(spec.offsets[r])), ("'kind'", repr(spec.kinds[r])),
                ("'rate'", optional_float(spec.rates[r])), ("'rate_exact'", optional_text(spec.rates_exact[r])),
                ("'window'", optional_float(spec.windows[r])),
                ("'window_exact'", optional_text(spec.windows_exact[r])),
                ("'route'", repr(m.route)), ("'variable_kind'", optional_text(m.variable_kind)),
                ("'spec_hash'", repr(m.hash)),
            ],
            "line": (f"member {r} = states {spec.offsets[r]} .. {spec.offsets[r] + spec.sizes[r] - 1}: "
                     f"{comment_text(m.warp)} ({_member_geometry_text(spec, r)})"),
            "A": matrix_lines(m.A),
            "B": grouped(vector(m.B)),
        })
    metadata = {
        "basis": repr(first.basis),
        "basis_kind": repr(first.basis_kind),
        "delta": float_literal(spec.delta),
        "delta_exact": repr(spec.delta_exact),
        "members": tuple_literal(repr(m.warp) for m in spec.members),
        "N": str(spec.N),
        "name": repr(spec.name),
        "R": str(R),
        "spec_hash": repr(spec.hash),
        "time_varying": "False",
        "variable_kind": repr("+".join(variable_kinds)) if variable else "None",
    }
    variable_modules = []
    for i, kind in enumerate(variable_kinds):
        imports = f"_lag_step as _{kind}_step, _lag_tables as _{kind}_tables, _lag_adjoint as _{kind}_adjoint"
        if kind == "neglog":        # a callee of _lag_step: _cuda.py finds it on _cpu to compile it for the GPU
            imports += ", _neglog_input  # noqa: F401"
        variable_modules.append({
            "kind": kind, "file": f"_lag_{kind}.py", "module": f"_lag_{kind}", "code": VARIABLE_CODES[kind],
            "tables": f"_{kind}_tables", "step": f"_{kind}_step", "imports": imports,
            "branch": "if" if i == 0 else "elif", "template": f"package/variable/{kind}.py.jinja",
        })
    device_functions = ["_basis_row"]
    if "neglog" in variable_kinds:
        device_functions.append("_neglog_input")
    device_functions += [m["step"] for m in variable_modules]
    device_functions += (["_dilation_parameters", "_translation_parameters", "_neglog_parameters",
                          "_member_lag_parameters", "_member_step"] if variable else [])
    derivative = _derivative(spec, variable)
    if derivative["derivative_route"]:     # the selective scan's steps (package/cpu/adjoint.py.jinja)
        device_functions += ["_dilation_cutoff", "_translation_cutoff", "_neglog_cutoff"]
        device_functions += [f"_{m['kind']}_adjoint" for m in variable_modules]
        device_functions += ["_member_adjoint", "_member_cutoff", "_bridge_step", "_bridge_adjoint_step"]
    return {
        "header": [
            f"# Generated by symderive from a bank of warps=[{warps}], basis={basis}, N={R}x{NM}, "
            f"delta={delta_text}. Do not edit.",
            f"# spec-sha256: {spec.hash}",
        ],
        "name": spec.name,
        "N": str(spec.N),
        "basis_text": basis,
        "delta_text": delta_text,
        "usage_lines": _usage_lines(spec, variable),
        "metadata": [(repr(key), value) for key, value in sorted(metadata.items())],
        "members": members,
        "delta": float_literal(spec.delta),
        "delta_exact": repr(spec.delta_exact),
        "sizes": tuple_literal(str(s) for s in spec.sizes),
        "offsets": tuple_literal(str(o) for o in spec.offsets),
        "kinds": tuple_literal(repr(k) for k in spec.kinds),
        "rates": tuple_literal(optional_float(x) for x in spec.rates),
        "windows": tuple_literal(optional_float(x) for x in spec.windows),
        "variable": variable,
        "variable_kinds_text": "+".join(variable_kinds) if variable else "none",
        "variable_modules": variable_modules,
        "variable_codes": tuple_literal(VARIABLE_CODES[m.variable_kind] for m in spec.members) if variable else "()",
        "lag_parameters": tuple_literal(float_literal(spec.rates[r] if spec.kinds[r] == "dilation"
                                                      else spec.windows[r]) for r in range(R)),
        "no_variable_reason": string_literal_lines(reason) if not variable else [],
        "device_functions": tuple_literal(repr(name) for name in device_functions),
        "neglog_coordinate": repr(first.coordinate == "neglog"),
        "is_neglog": first.coordinate == "neglog",
        **block_layout(NM, [m.A for m in spec.members], bank=True),     # R, NM, NP, NC, LOWER, ...
        "history_kind": None,        # members map lags by KINDS[r] (dilation or translation), no printed cutoff
        **derivative,
        **basis_values,
    }
