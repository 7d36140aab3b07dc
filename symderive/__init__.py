"""symderive: exact lag-operator state space models from a time warp and a basis.

    import symderive as sd
    m = sd.derive(warp=sd.warps.exponential(), basis=sd.bases.legendre(8))
    m.A_gen, m.B_gen            # exact generator (SymPy)
    A, B = m.lag(0.01)          # exact discrete matrices
    A, B = m.numeric(0.01)      # float64, rounded once from a certified value
    sd.verify(sd.warps.exponential(), sd.bases.legendre(8), "legs").verdict   # 'identical'
"""

from .derivation.model import LagModel, LagPair, derive
from .errors import DerivationError, InputError
from .inputs import bases, warps
from .inputs.expressions import parse_expression

__version__ = "0.1.0"

from .verification.verify import verify_spec as verify  # noqa: E402  (needs __version__)

__all__ = ["derive", "verify", "LagModel", "LagPair", "warps", "bases", "parse_expression", "InputError",
           "DerivationError", "__version__"]
