"""Render a :class:`~symderive.codegen.bank.BankSpec` into the files of one generated bank package.

``render_bank(spec)`` returns ``{relative path: file text}``, like :func:`.render.render_package`, from
the templates in ``templates/bank/``; the per-basis evaluation (``templates/package/basis/``), the
per-step quadrature forms (``templates/package/variable/``), the input checks
(``templates/package/_checks.py.jinja``) and the CUDA runtime (``templates/package/cuda/runtime.py.jinja``)
of the single packages are included as they are. Every number and decision is made here, with the
printing helpers of :mod:`.render`; the output depends on the spec alone.
"""

from __future__ import annotations

from .bank import BankSpec
from .render import (CHANNEL_BLOCK, MIN_BLOCKED_CHANNELS, _basis_description, basis_context, _basis_table,
                     _comment_text, _float, _lines, _lower_triangular, _matrix_lines, _no_variable_reason, _quadrature,
                     _round_up, _string_literal_lines, _vector, environment)

# generated file -> the template that emits it (plus one _lag_<kind>.py per per-step lag kind in use)
BANK_FILES = {
    "__init__.py": "bank/__init__.py.jinja",
    "_data.py": "bank/_data.py.jinja",
    "_checks.py": "bank/_checks.py.jinja",
    "_basis.py": "bank/_basis.py.jinja",
    "_cpu.py": "bank/_cpu.py.jinja",
    "_cuda.py": "bank/_cuda.py.jinja",
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


def _tuple(values) -> str:
    """A Python tuple literal of already printed values (``(a,)`` for one)."""
    values = list(values)
    return "(" + ", ".join(values) + ("," if len(values) == 1 else "") + ")"


def _optional_float(x) -> str:
    return "None" if x is None else _float(x)


def _optional_text(x) -> str:
    return "None" if x is None else repr(str(x))


def _member_geometry_text(spec: BankSpec, r: int) -> str:
    """How member ``r`` maps a lag to its coordinate, for docstrings."""
    if spec.kinds[r] == "dilation":
        return f"dilation, rate {_comment_text(spec.rates_exact[r])}: z = exp(-rate * lag)"
    return (f"translation, window {_comment_text(spec.windows_exact[r])}: z = 1 - lag / window for "
            "lag <= window, nothing older")


def _variable(spec: BankSpec) -> tuple[bool, list[str], str]:
    """(scan_variable available, the per-step lag kinds in use (sorted), the reason when not)."""
    missing = [(r, m) for r, m in enumerate(spec.members) if m.variable_kind is None]
    if missing:
        r, member = missing[0]
        reason = (f"bank member {r + 1} ({member.warp} x {member.basis}) has no per-step form: "
                  f"{_no_variable_reason(member)}")
        return False, [], reason
    kinds = sorted({m.variable_kind for m in spec.members}, key=list(VARIABLE_CODES).index)
    return True, kinds, ""


def _quadrature_rule(spec: BankSpec, variable: bool) -> tuple[tuple, tuple]:
    """The quadrature rule of the per-step lag, the same for every member (one basis, one node family)."""
    if not variable:
        return (), ()
    return _quadrature(spec.members[0])     # build_bank_spec requires one basis and one N for all members


def _usage_lines(spec: BankSpec, variable: bool) -> list[str]:
    lines = ["u = np.random.default_rng(0).standard_normal((1000, 4))   # L = 1000 steps, H = 4 channels",
             "states = m.scan(u)                     # (1000, 4, N): all members, concatenated",
             "last = m.scan_final(u)                 # (4, N)",
             "c = m.step(last, u[-1])               # one more step: A c + B u",
             "same = m.conv(u)                       # all states by FFT convolution with kernel(L) = rows A^k B",
             "past = m.history(last, [0.0, 0.1, 1.0])   # (4, R, 3): u(t - lag) as each member remembers it",
             "values = m.reconstruct(last, np.linspace(0.0, 1.0, 50))   # (4, R, 50): sum_n c_rn p_n(z)"]
    if variable:
        lines.append(f"varied = m.scan_variable(u, np.full(1000, {_float(spec.delta)}))   # a per-step Delta_t")
    else:
        lines.append("# scan_variable raises NotImplementedError for this bank (see _cpu.NO_VARIABLE_REASON)")
    lines.append("gpu = m.scan_cuda(u)                   # numba.cuda (NUMBA_ENABLE_CUDASIM=1: the simulator)")
    return lines


def bank_context(spec: BankSpec) -> dict:
    """Every value the bank templates print, as ready-to-print strings, and the templates to include."""
    first = spec.members[0]
    R, NM = spec.R, int(first.N)
    variable, variable_kinds, reason = _variable(spec)
    nodes, weights = _quadrature_rule(spec, variable)
    table = _basis_table(first)
    warps = ", ".join(_comment_text(m.warp) for m in spec.members)
    basis = _comment_text(first.basis)
    delta_text = _comment_text(spec.delta_exact)
    members = []
    for r, m in enumerate(spec.members):
        members.append({
            "items": [
                ("'warp'", repr(m.warp)), ("'basis'", repr(m.basis)), ("'N'", str(int(m.N))),
                ("'offset'", str(spec.offsets[r])), ("'kind'", repr(spec.kinds[r])),
                ("'rate'", _optional_float(spec.rates[r])), ("'rate_exact'", _optional_text(spec.rates_exact[r])),
                ("'window'", _optional_float(spec.windows[r])),
                ("'window_exact'", _optional_text(spec.windows_exact[r])),
                ("'route'", repr(m.route)), ("'variable_kind'", _optional_text(m.variable_kind)),
                ("'spec_hash'", repr(m.hash)),
            ],
            "line": (f"member {r} = states {spec.offsets[r]} .. {spec.offsets[r] + spec.sizes[r] - 1}: "
                     f"{_comment_text(m.warp)} ({_member_geometry_text(spec, r)})"),
            "A": _matrix_lines(m.A),
            "B": _lines(_vector(m.B)),
        })
    metadata = {
        "basis": repr(first.basis),
        "basis_kind": repr(first.basis_kind),
        "delta": _float(spec.delta),
        "delta_exact": repr(spec.delta_exact),
        "members": _tuple(repr(m.warp) for m in spec.members),
        "N": str(spec.N),
        "name": repr(spec.name),
        "R": str(R),
        "spec_hash": repr(spec.hash),
        "time_varying": "False",
        "variable_kind": repr("+".join(variable_kinds)) if variable else "None",
    }
    variable_modules = []
    for i, kind in enumerate(variable_kinds):
        imports = f"_lag_step as _{kind}_step, _lag_tables as _{kind}_tables"
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
    device_functions += ["_member_lag_parameters", "_member_step"] if variable else []
    return {
        "header": [
            f"# Generated by symderive from a bank of warps=[{warps}], basis={basis}, N={R}x{NM}, "
            f"delta={delta_text}. Do not edit.",
            f"# spec-sha256: {spec.hash}",
        ],
        "name": spec.name,
        "R": str(R),
        "N": str(spec.N),
        "NM": str(NM),
        "NP": str(_round_up(NM, 8)),
        "M": str(len(nodes)),
        "basis_text": basis,
        "delta_text": delta_text,
        "basis_description": _basis_description(first),
        "usage_lines": _usage_lines(spec, variable),
        "metadata": [(repr(key), value) for key, value in sorted(metadata.items())],
        "members": members,
        "delta": _float(spec.delta),
        "delta_exact": repr(spec.delta_exact),
        "sizes": _tuple(str(s) for s in spec.sizes),
        "offsets": _tuple(str(o) for o in spec.offsets),
        "kinds": _tuple(repr(k) for k in spec.kinds),
        "rates": _tuple(_optional_float(x) for x in spec.rates),
        "windows": _tuple(_optional_float(x) for x in spec.windows),
        "lower": _tuple(repr(_lower_triangular(m.A)) for m in spec.members),
        "variable": variable,
        "variable_kinds_text": "+".join(variable_kinds) if variable else "none",
        "variable_modules": variable_modules,
        "variable_codes": _tuple(VARIABLE_CODES[m.variable_kind] for m in spec.members) if variable else "()",
        "lag_parameters": _tuple(_float(spec.rates[r] if spec.kinds[r] == "dilation" else spec.windows[r])
                                 for r in range(R)),
        "no_variable_reason": _string_literal_lines(reason) if not variable else [],
        "device_functions": _tuple(repr(name) for name in device_functions),
        "neglog_coordinate": repr(first.coordinate == "neglog"),
        "is_neglog": first.coordinate == "neglog",
        "channel_block": str(CHANNEL_BLOCK),
        "min_blocked_channels": str(MIN_BLOCKED_CHANNELS),
        **basis_context(nodes, weights, table, first.basis_kind),
    }
