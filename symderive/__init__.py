"""symderive: exact lag-operator state space models from a time warp and a basis.

    import symderive as sd
    m = sd.derive(warp=sd.warps.exponential(), basis=sd.bases.legendre(8))
    m.A_gen, m.B_gen            # exact generator (SymPy)
    A, B = m.lag(0.01)          # exact discrete matrices
    A, B = m.numeric(0.01)      # float64: certified (exact route) or quadrature with an error estimate
    with sd.budget(5): m.lag(0.01)   # all symbolic steps of a derivation share one time budget
    sd.verify(sd.warps.exponential(), sd.bases.legendre(8), "legs").verdict   # 'identical'
"""

import importlib

from ._version import __version__
from .errors import DerivationError, InputError

# The engine (SymPy, flint, numpy) loads on first use of these names, so that the command line can
# answer from its cache, and print --help, without importing it.
_LAZY = {
    "derive": ("symderive.derivation.model", "derive"),
    "LagModel": ("symderive.derivation.model", "LagModel"),
    "LagPair": ("symderive.derivation.model", "LagPair"),
    "verify": ("symderive.verification.verify", "verify_spec"),
    "budget": ("symderive._limits", "budget"),
    "warps": ("symderive.inputs.warps", None),
    "bases": ("symderive.inputs.bases", None),
    "parse_expression": ("symderive.inputs.expressions", "parse_expression"),
}

__all__ = ["derive", "verify", "budget", "LagModel", "LagPair", "warps", "bases", "parse_expression",
           "InputError", "DerivationError", "__version__"]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'symderive' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = importlib.import_module(module)
    if attribute is not None:
        value = getattr(value, attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
