"""Selective lag-SSM layers for PyTorch (the ``torch`` extra): a Mamba-shaped block around a derived memory.

One layer maps x (B, L, d_model) to (B, L, d_model), with E = expand * d_model channels::

    x, z  = split(W_in x)                              # (B, L, E) each
    x     = silu(causal depthwise conv(x))             # kernel d_conv (0: no conv)
    dt, C = split(W_x x)                               # (B, L, r), (B, L, N)
    delta = softplus(W_dt dt + b_dt)                   # selective step, one per channel and time step
          | softplus(b_dt) broadcast over (B, L)       # selective=False: a learned fixed step per channel
    y     = memory(x, delta, C, D)                     # c_t = A(delta_t) c_{t-1} + B(delta_t) x_t,
                                                       # y_t = C_t . c_t + D x_t, per channel
    out   = W_out (y * silu(z))

The memory is a generated package's differentiable scan (``NAME.torch.selective_scan``): A(delta) and
B(delta) are the lag-operator matrices the engine derived for the warp and basis (docs/math.md), with
the gradient of delta through d/dDelta of those matrices (docs/torch.md). ``DiagonalMemory`` is the
baseline with Mamba's own memory in the same shape: the S4D-real diagonal A = -diag(1, ..., N),
B = 1, discretized exactly (zero-order hold), run as a plain torch loop.

Steps are clamped into the range the memory accepts (``LagSSM.step_range``): a general warp's package
verified its per-step quadrature on [DELTA_MIN, DELTA_MAX] only, and the clamp keeps training inside it
(the gradient of a clamped step is zero, as for torch.clamp).

``LagSSMModel`` stacks layers with pre-norm residuals: tokens or features in, logits per position out.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError as error:          # pragma: no cover - exercised without torch only
    raise ImportError("symderive.nn needs PyTorch: pip install 'symderive[torch]' (or torch==2.13.0)") from error

__all__ = ["DiagonalMemory", "LagSSM", "LagSSMModel", "load_package", "diagonal_selective_scan"]

_SMALLEST_STEP = 1e-6     # steps below this are clamped up (softplus of a very negative number underflows)


# ---------------------------------------------------------------------------------------------- memories


def _package_folder(folder) -> Path:
    from . import cache
    path = Path(folder) if folder is not None else cache.directory() / "packages"
    path.mkdir(parents=True, exist_ok=True)
    return path


def package_name(warp: str, basis: str, N: int, delta: str) -> str:
    """A package name (a Python identifier) made of the inputs' hash: the same inputs, the same name."""
    digest = hashlib.sha256(f"{warp}|{basis}|{N}|{delta}".encode()).hexdigest()[:12]
    stem = re.sub(r"[^0-9a-zA-Z]+", "_", f"{warp.split(':')[0]}_{basis.split(':')[0]}")[:24].strip("_").lower()
    return f"lagssm_{stem}_n{N}_{digest}"


def load_package(warp: str, basis: str, N: int, delta: str = "1/100", folder=None, name: str | None = None):
    """The generated package of ``warp x basis`` with N functions (strings as on the command line, e.g.
    ``"exponential"``, ``"linear:window=1"``, ``"f=1/(1-x)"``; ``"legendre"``), exported at step ``delta``
    into ``folder`` (default: the ``packages`` folder of symderive's cache) and imported.

    A package already exported there from the identical spec is reused as it is, so the kernels Numba
    compiled for it at first use are loaded, not compiled again (:func:`export_or_reuse`).
    """
    from .codegen.export import export_or_reuse, import_package
    from .inputs.bases import _check_N
    from .inputs.specs import parse_basis, parse_warp
    N = _check_N(N)                       # before N names the package (InputError, a ValueError)
    folder = _package_folder(folder)
    name = name or package_name(str(warp), str(basis), N, str(delta))
    path, spec, _ = export_or_reuse(parse_warp(warp), parse_basis(basis, N), str(delta), name, folder)
    return import_package(path.parent, name, spec.hash)


def diagonal_selective_scan(u, delta, C, D=None, rates=None):
    """The diagonal selective scan, per channel h, with A = -diag(rates) and B = 1 (zero-order hold)::

        c_t = exp(-delta_t rates) * c_{t-1} + (1 - exp(-delta_t rates)) / rates * u_t,  c_0 = 0
        y_t = C_t . c_t + D u_t

    u, delta (B, L, H); C (B, L, N) or (H, N); D (H,) or None; rates (N,) > 0 (default 1, ..., N: S4D-real).
    A plain torch loop over time (autograd differentiates it)."""
    n_batch, L, H = u.shape
    N = C.shape[-1]
    if rates is None:
        rates = torch.arange(1, N + 1, dtype=u.dtype, device=u.device)
    decay = torch.exp(-delta.unsqueeze(-1) * rates)                     # (B, L, H, N)
    gain = (1.0 - decay) / rates
    state = u.new_zeros(n_batch, H, N)
    states = []
    for t in range(L):
        state = decay[:, t] * state + gain[:, t] * u[:, t].unsqueeze(-1)
        states.append(state)
    states = torch.stack(states, dim=1)                                 # (B, L, H, N)
    y = torch.einsum("blhn,bln->blh", states, C) if C.dim() == 3 else torch.einsum("blhn,hn->blh", states, C)
    return y if D is None else y + D * u


class DiagonalMemory:
    """The S4D-real memory (A = -diag(1..N), B = 1; Mamba's initialisation, held fixed) in the interface of
    a generated package's bridge: ``selective_scan(u, delta, C, D)`` and ``N``."""

    DELTA_MIN, DELTA_MAX = 0.0, math.inf

    def __init__(self, N: int):
        if not isinstance(N, int) or isinstance(N, bool) or N < 1:
            raise ValueError(f"N must be a positive int, got {N!r}")
        self.N = N
        self.name = f"S4D-real diagonal, N = {N}"

    def selective_scan(self, u, delta, C, D=None, kernels=None):
        """:func:`diagonal_selective_scan`; ``kernels`` is accepted for the bridge's interface and unused
        (torch runs the loop on the tensors' device)."""
        return diagonal_selective_scan(u, delta, C, D)


def _memory_parts(memory):
    """(N, scan function, step range, description) of a generated package or a DiagonalMemory."""
    if isinstance(memory, DiagonalMemory):
        return memory.N, memory.selective_scan, (memory.DELTA_MIN, memory.DELTA_MAX), memory.name
    bridge = getattr(memory, "torch", None)
    scan = getattr(bridge, "selective_scan", None)
    if scan is None or not hasattr(memory, "N"):
        raise TypeError(f"memory must be a generated package with a PyTorch bridge (NAME.torch.selective_scan) or "
                        f"a DiagonalMemory, got {memory!r}")
    cpu = getattr(memory, "_cpu", None)
    if cpu is not None and getattr(cpu, "DERIVATIVE_ROUTE", "") is None:
        raise ValueError(f"package {memory.__name__} cannot be trained: its step has no derivative route "
                         f"({getattr(cpu, 'NO_DERIVATIVE_REASON', 'no reason recorded')})")
    checks = getattr(memory, "_checks", None)
    low, high = (float(getattr(checks, "DELTA_MIN", 0.0)), float(getattr(checks, "DELTA_MAX", math.inf)))
    description = f"{memory.__name__}: {memory.METADATA.get('warp')} x {memory.METADATA.get('basis')}, N = {memory.N}"
    return int(memory.N), scan, (low, high), description


# ---------------------------------------------------------------------------------------------- the layer


class LagSSM(nn.Module):
    """A selective SSM layer whose memory is a derived lag-operator SSM (module docstring for the formulas).

    Parameters: ``memory`` (a generated package, see :func:`load_package`, or a :class:`DiagonalMemory`);
    ``d_model``; ``expand`` (channels E = expand * d_model); ``d_conv`` (causal depthwise conv width, 0 for
    none); ``selective`` (True: delta from the input; False: a learned step per channel); ``selective_C``
    (True: C_t from the input, (B, L, N); False: a learned (E, N)); ``dt_rank`` (rank of the step's
    projection, default ceil(d_model / 16)); ``dt_min``, ``dt_max`` (initial steps, log-uniform per
    channel); ``kernels`` (the bridge's ``kernels`` argument: None picks by device).
    """

    def __init__(self, memory, d_model: int, *, expand: int = 2, d_conv: int = 4, selective: bool = True,
                 selective_C: bool = True, dt_rank: int | None = None, dt_min: float = 1e-3, dt_max: float = 1e-1,
                 kernels: str | None = None):
        super().__init__()
        for label, value, low in (("d_model", d_model, 1), ("expand", expand, 1), ("d_conv", d_conv, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"{label} must be an int >= {low}, got {value!r}")
        if not (0 < dt_min <= dt_max):
            raise ValueError(f"need 0 < dt_min <= dt_max, got dt_min = {dt_min!r}, dt_max = {dt_max!r}")
        self.memory = memory
        self.N, self._scan, (low, high), self.memory_name = _memory_parts(memory)
        self.step_range = (max(low, _SMALLEST_STEP), high)
        if not (self.step_range[0] <= dt_min and dt_max <= self.step_range[1]):
            dt_min, dt_max = max(dt_min, self.step_range[0]), min(dt_max, self.step_range[1])
            if dt_min > dt_max:
                raise ValueError(f"the memory accepts steps in {self.step_range} only; no initial steps fit")
        self.d_model, self.expand, self.d_conv = d_model, expand, d_conv
        self.selective, self.selective_C, self.kernels = selective, selective_C, kernels
        E = self.channels = expand * d_model
        self.dt_rank = dt_rank or math.ceil(d_model / 16)
        self.in_proj = nn.Linear(d_model, 2 * E, bias=False)
        self.conv = nn.Conv1d(E, E, d_conv, groups=E, padding=d_conv - 1) if d_conv else None
        width = (self.dt_rank if selective else 0) + (self.N if selective_C else 0)
        self.x_proj = nn.Linear(E, width, bias=False) if width else None
        self.dt_proj = nn.Linear(self.dt_rank, E, bias=True) if selective else None
        self.C = None if selective_C else nn.Parameter(torch.randn(E, self.N) / math.sqrt(self.N))
        self.D = nn.Parameter(torch.ones(E))
        self.out_proj = nn.Linear(E, d_model, bias=False)
        # initial steps log-uniform in [dt_min, dt_max], through the inverse of softplus (as Mamba does)
        steps = torch.exp(torch.rand(E) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        bias = steps + torch.log(-torch.expm1(-steps))
        if selective:
            with torch.no_grad():
                self.dt_proj.bias.copy_(bias)
                nn.init.uniform_(self.dt_proj.weight, -self.dt_rank ** -0.5, self.dt_rank ** -0.5)
            self.dt_bias = None
        else:
            self.dt_bias = nn.Parameter(bias)

    @classmethod
    def from_spec(cls, warp: str, basis: str, N: int, d_model: int, *, delta: str = "1/100", folder=None,
                  name: str | None = None, **kwargs) -> "LagSSM":
        """A layer over the package of ``warp x basis`` with N functions (:func:`load_package`: exported
        once, then reused)."""
        return cls(load_package(warp, basis, N, delta, folder, name), d_model, **kwargs)

    @classmethod
    def from_package(cls, package, d_model: int, **kwargs) -> "LagSSM":
        """A layer over an exported package: the imported module, or the path of its folder."""
        if isinstance(package, (str, Path)):
            from .codegen.export import import_package
            path = Path(package).resolve()
            if not (path / "__init__.py").is_file():
                raise ValueError(f"{str(path)!r} is not an exported package folder (no __init__.py)")
            package = import_package(path.parent, path.name)
        return cls(package, d_model, **kwargs)

    def steps(self, x, projected=None):
        """delta (B, L, E) for the conv'd input x (B, L, E), clamped into ``step_range`` (``projected``:
        ``x_proj(x)`` when already computed)."""
        if self.selective:
            projected = self.x_proj(x) if projected is None else projected
            raw = self.dt_proj(projected[..., : self.dt_rank])
        else:
            raw = self.dt_bias.expand(x.shape[0], x.shape[1], -1)
        return F.softplus(raw).clamp(*self.step_range)

    def forward(self, x):
        if x.dim() != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"LagSSM expects x of shape (batch, length, {self.d_model}), got {tuple(x.shape)}")
        L = x.shape[1]
        x, z = self.in_proj(x).chunk(2, dim=-1)
        if self.conv is not None:
            x = self.conv(x.transpose(1, 2))[..., :L].transpose(1, 2)
        x = F.silu(x)
        projected = self.x_proj(x) if self.x_proj is not None else None
        delta = self.steps(x, projected)
        C = projected[..., (self.dt_rank if self.selective else 0):] if self.selective_C else self.C
        y = self._scan(x.contiguous(), delta.contiguous(), C.contiguous(), self.D, kernels=self.kernels)
        return self.out_proj(y * F.silu(z))

    def extra_repr(self) -> str:
        return (f"memory={self.memory_name!r}, d_model={self.d_model}, channels={self.channels}, "
                f"selective={self.selective}, selective_C={self.selective_C}, step_range={self.step_range}")


# ---------------------------------------------------------------------------------------------- the model


class LagSSMModel(nn.Module):
    """Layers with pre-norm residuals (x + layer(norm(x))), a final norm and a linear head.

    ``inputs``: ``vocab_size`` (token ids (B, L) in) or ``d_input`` (features (B, L, d_input) in), one of
    them; ``d_output``: logits per position (B, L, d_output). ``layers``: LagSSM layers of width d_model.
    """

    def __init__(self, layers, d_output: int, *, vocab_size: int | None = None, d_input: int | None = None):
        super().__init__()
        layers = list(layers)
        if not layers:
            raise ValueError("LagSSMModel needs at least one layer")
        if (vocab_size is None) == (d_input is None):
            raise ValueError("give exactly one of vocab_size (token inputs) and d_input (feature inputs)")
        d_model = layers[0].d_model
        if any(layer.d_model != d_model for layer in layers):
            raise ValueError("every layer must have the same d_model")
        self.d_model = d_model
        self.embed = nn.Embedding(vocab_size, d_model) if vocab_size else nn.Linear(d_input, d_model)
        self.layers = nn.ModuleList(layers)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in layers)
        self.norm_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, d_output)

    @classmethod
    def build(cls, memory, n_layers: int, d_model: int, d_output: int, *, vocab_size: int | None = None,
              d_input: int | None = None, **layer_kwargs) -> "LagSSMModel":
        """``n_layers`` LagSSM layers over one ``memory`` (a package or DiagonalMemory)."""
        if not isinstance(n_layers, int) or n_layers < 1:
            raise ValueError(f"n_layers must be a positive int, got {n_layers!r}")
        layers = [LagSSM(memory, d_model, **layer_kwargs) for _ in range(n_layers)]
        return cls(layers, d_output, vocab_size=vocab_size, d_input=d_input)

    def forward(self, inputs):
        x = self.embed(inputs)
        for norm, layer in zip(self.norms, self.layers):
            x = x + layer(norm(x))
        return self.head(self.norm_f(x))
