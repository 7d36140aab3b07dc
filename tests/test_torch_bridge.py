"""The PyTorch bridge of generated packages (NAME.torch.selective_scan), against independent routes:

- a plain torch reference written here: A(Delta), B(Delta) as dense matrices from the lag inner products
  by Gauss-Legendre quadrature in torch (the warp's lag map and cutoff written out by hand, the Legendre
  basis by its recurrence), a Python loop over channels and steps, and torch autograd for every gradient;
- torch.autograd.gradcheck (central differences of the forward) in float64, every argument;
- the package's own numpy route (scan_variable, then the readout) for the forward values;
- the CUDA kernels on numba's CUDA simulator (tests/torch_sim_runner.py) against the CPU kernels.
Packages: LegS (dilation), LegT (window translation), the power-law warp 1/(1 - x) (not affine: the
quadrature route of d/dDelta) and a bank of an exponential and a window member.
"""

import contextlib
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import symderive as sd  # noqa: E402
from symderive.codegen.export import export, export_bank  # noqa: E402

HERE = Path(__file__).resolve().parent
DELTA = 0.05


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bridge")
    export(sd.warps.exponential(), sd.bases.legendre(5), DELTA, "legs5", folder)
    export(sd.warps.linear(1), sd.bases.legendre(5), DELTA, "legt5", folder)
    export(sd.warps.custom("1/(1-x)"), sd.bases.legendre(4), DELTA, "pow4", folder)
    export_bank([sd.warps.exponential(1), sd.warps.linear(2)], sd.bases.legendre(3), DELTA, "bank3", folder)
    export(sd.warps.scale(), sd.bases.legendre(3), None, "scale3", folder)
    sys.path.insert(0, str(folder))
    try:
        yield folder, {name: importlib.import_module(name) for name in ("legs5", "legt5", "pow4", "bank3", "scale3")}
    finally:
        sys.path.remove(str(folder))


# ---------------------------------------------------------------------- the torch reference

_X, _W = (torch.tensor(a, dtype=torch.float64) for a in np.polynomial.legendre.leggauss(40))


def _legendre(z, N):
    """p_n(z) = sqrt(2n+1) P_n(2z - 1), n < N, by the three-term recurrence: (..., N)."""
    t = 2 * z - 1
    P = [torch.ones_like(t), t]
    for n in range(1, N - 1):
        P.append(((2 * n + 1) * t * P[n] - n * P[n - 1]) / (n + 1))
    return torch.stack(P[:N], dim=-1) * torch.sqrt(torch.arange(N, dtype=torch.float64) * 2 + 1)


# (cutoff z_Delta, lag map lambda_Delta(z)) of each warp, written out by hand
WARPS = {
    "exp1": (lambda d: torch.exp(-d), lambda z, d: z * torch.exp(d)),
    "window1": (lambda d: 1 - d, lambda z, d: z + d),
    "window2": (lambda d: 1 - d / 2, lambda z, d: z + d / 2),
    "power": (lambda d: 1 / (1 + d), lambda z, d: z / (1 - d * z)),
}
MEMBERS = {"legs5": [("exp1", 5)], "legt5": [("window1", 5)], "pow4": [("power", 4)],
           "bank3": [("exp1", 3), ("window2", 3)]}


def _lag_matrices(name, d):
    """Dense A(Delta), B(Delta) of a package by 40-point Gauss-Legendre quadrature of the lag inner products
    A[n, k] = int_0^{z_Delta} p_n(z) p_k(lambda(z)) dz, B[n] = int_{z_Delta}^1 p_n(z) dz (block diagonal in
    a bank); differentiable in d."""
    blocks_A, blocks_B = [], []
    for warp, N in MEMBERS[name]:
        cutoff, lag = WARPS[warp]
        zc = cutoff(d)
        z = zc * (_X + 1) / 2
        A = torch.einsum("j,jn,jk->nk", zc * _W / 2, _legendre(z, N), _legendre(lag(z, d), N))
        zb = zc + (1 - zc) * (_X + 1) / 2
        B = torch.einsum("j,jn->n", (1 - zc) * _W / 2, _legendre(zb, N))
        blocks_A.append(A)
        blocks_B.append(B)
    return torch.block_diag(*blocks_A), torch.cat(blocks_B)


def _reference(name, u, delta, C, D, c0):
    """y (B, L, H) and the last state (B, H, N) by a Python loop over dense matrices (torch autograd)."""
    n_batch, L, H = u.shape
    ys, lasts = [], []
    for b in range(n_batch):
        yb, lb = [], []
        for h in range(H):
            c = c0[b, h]
            col = []
            for t in range(L):
                d = delta[b, t, h] if delta.dim() == 3 else (delta[t] if delta.dim() == 1 else delta)
                A, Bv = _lag_matrices(name, d)
                c = A @ c + Bv * u[b, t, h]
                readout = C[b, t] if C.dim() == 3 else C[h]
                col.append(readout @ c + D[h] * u[b, t, h])
            yb.append(torch.stack(col))
            lb.append(c)
        ys.append(torch.stack(yb, dim=1))
        lasts.append(torch.stack(lb))
    return torch.stack(ys), torch.stack(lasts)


def _inputs(N, delta_shape, c_shape, seed, dtype=torch.float64, B=2, L=6, H=3):
    gen = torch.Generator().manual_seed(seed)
    u = torch.randn(B, L, H, dtype=dtype, generator=gen)
    delta = 0.02 + 0.15 * torch.rand(delta_shape(B, L, H), dtype=dtype, generator=gen)
    C = torch.randn(c_shape(B, L, H, N), dtype=dtype, generator=gen)
    D = torch.randn(H, dtype=dtype, generator=gen)
    c0 = torch.randn(B, H, N, dtype=dtype, generator=gen)
    return [x.requires_grad_() for x in (u, delta, C, D, c0)]


SHARED, CHANNEL, SCALAR = (lambda B, L, H: (L,)), (lambda B, L, H: (B, L, H)), (lambda B, L, H: ())
FIXED_C, INPUT_C = (lambda B, L, H, N: (H, N)), (lambda B, L, H, N: (B, L, N))
CASES = [("shared-fixedC", SHARED, FIXED_C), ("channel-inputC", CHANNEL, INPUT_C), ("scalar-inputC", SCALAR, INPUT_C)]


@contextlib.contextmanager
def kernel_path(pkg, path):
    """The CPU kernels' two paths: one job per channel (few channels), or blocks of channels stepped together
    (from BLOCK_MIN_CHANNELS channels on; forced here for the tests' small H)."""
    saved = pkg.torch.BLOCK_MIN_CHANNELS
    pkg.torch.BLOCK_MIN_CHANNELS = 1 if path == "blocks" else 10**9
    try:
        yield
    finally:
        pkg.torch.BLOCK_MIN_CHANNELS = saved


# every package on the per-channel path; the block path (its kernels take 20-50 s to compile) for LegS in the
# default run, for the others with -m slow (pow4: block forward, per-channel backward; bank3: both block
# adjoints, dilation and translation)
PATHS = ([pytest.param("channels", name, id=f"channels-{name}") for name in ("legs5", "legt5", "pow4", "bank3")]
         + [pytest.param("blocks", "legs5", id="blocks-legs5")]
         + [pytest.param("blocks", name, id=f"blocks-{name}", marks=pytest.mark.slow)
            for name in ("legt5", "pow4", "bank3")])


@pytest.mark.parametrize("path,name", PATHS)
@pytest.mark.parametrize("case,delta_shape,c_shape", CASES, ids=[c[0] for c in CASES])
def test_forward_and_gradients_match_torch_reference(packages, path, name, case, delta_shape, c_shape):
    pkg = packages[1][name]
    args = _inputs(pkg.N, delta_shape, c_shape, seed=len(case) + len(name), H=3 if path == "channels" else 11)
    with kernel_path(pkg, path):
        y, last = pkg.torch.selective_scan(*args, return_last_state=True)
    ry, rlast = _reference(name, *args)
    with torch.no_grad():
        assert float((y - ry).abs().max()) < 1e-11 * float(ry.abs().max())
        assert float((last - rlast).abs().max()) < 1e-11 * float(rlast.abs().max())
    gen = torch.Generator().manual_seed(1)
    wy, wl = torch.randn(y.shape, dtype=y.dtype, generator=gen), torch.randn(last.shape, dtype=y.dtype, generator=gen)
    with kernel_path(pkg, path):
        ours = torch.autograd.grad((y * wy).sum() + (last * wl).sum(), args)
    theirs = torch.autograd.grad((ry * wy).sum() + (rlast * wl).sum(), args)
    for label, a, b in zip(("u", "delta", "C", "D", "c0"), ours, theirs):
        assert a.shape == b.shape, label
        assert float((a - b).abs().max()) < 1e-9 * (1 + float(b.abs().max())), label


@pytest.mark.parametrize("path,name", PATHS)
@pytest.mark.parametrize("case,delta_shape,c_shape", CASES[:2], ids=[c[0] for c in CASES[:2]])
def test_gradcheck(packages, path, name, case, delta_shape, c_shape):
    pkg = packages[1][name]
    args = _inputs(pkg.N, delta_shape, c_shape, seed=7, B=2, L=5, H=2)

    def f(*a):
        return pkg.torch.selective_scan(*a, return_last_state=True)
    with kernel_path(pkg, path):
        assert torch.autograd.gradcheck(f, tuple(args), eps=1e-6, atol=1e-7, rtol=1e-6)


def test_forward_matches_the_numpy_route(packages):
    pkg = packages[1]["legt5"]
    u, delta, C, D, c0 = _inputs(pkg.N, CHANNEL, FIXED_C, seed=11)
    y = pkg.torch.selective_scan(u, delta, C, D, c0).detach().numpy()
    for b in range(u.shape[0]):
        states = pkg.scan_variable(u[b].detach().numpy(), delta[b].detach().numpy(), c0[b].detach().numpy())
        expect = np.einsum("lhn,hn->lh", states, C.detach().numpy()) + D.detach().numpy() * u[b].detach().numpy()
        assert np.max(np.abs(y[b] - expect)) < 1e-12 * np.max(np.abs(expect))


def test_float_step_and_defaults(packages):
    pkg = packages[1]["legs5"]
    u, _, C, _, _ = _inputs(pkg.N, SHARED, FIXED_C, seed=5)
    y = pkg.torch.selective_scan(u, DELTA, C)
    # with the package's own step and no D or c0, the fixed-step numpy scan gives the same states
    for b in range(u.shape[0]):
        states = pkg.scan(u[b].detach().numpy())
        expect = np.einsum("lhn,hn->lh", states, C.detach().numpy())
        assert np.max(np.abs(y[b].detach().numpy() - expect)) < 1e-12 * np.max(np.abs(expect))
    y.sum().backward()
    assert u.grad is not None and C.grad is not None


def test_float32(packages):
    pkg = packages[1]["legs5"]
    args64 = _inputs(pkg.N, CHANNEL, INPUT_C, seed=2)
    args32 = [x.detach().float().requires_grad_() for x in args64]
    y64 = pkg.torch.selective_scan(*args64)
    y32 = pkg.torch.selective_scan(*args32)
    assert y32.dtype == torch.float32
    with torch.no_grad():
        assert float((y32.double() - y64).abs().max()) < 1e-5 * float(y64.abs().max())
    g64 = torch.autograd.grad(y64.square().sum(), args64)
    g32 = torch.autograd.grad(y32.square().sum(), args32)
    for a, b in zip(g32, g64):
        assert a.dtype == torch.float32
        assert float((a.double() - b).abs().max()) < 1e-4 * (1 + float(b.abs().max()))


def test_training_fits_delta_C_and_D(packages):
    """A derived memory trained in a torch model: the step (through softplus), C and D of a LegT memory
    recover a target made by the same layer with other values."""
    pkg = packages[1]["legt5"]
    gen = torch.Generator().manual_seed(0)
    B, L, H, N = 4, 24, 2, pkg.N
    u = torch.randn(B, L, H, dtype=torch.float64, generator=gen)
    with torch.no_grad():
        target = pkg.torch.selective_scan(u, torch.full((L,), 0.12, dtype=torch.float64),
                                          torch.randn(H, N, dtype=torch.float64, generator=gen),
                                          torch.randn(H, dtype=torch.float64, generator=gen))
    raw = torch.full((L,), -3.0, dtype=torch.float64, requires_grad=True)      # softplus(-3) ~ 0.049
    C = torch.zeros(H, N, dtype=torch.float64, requires_grad=True)
    D = torch.zeros(H, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([raw, C, D], lr=0.05)
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = (pkg.torch.selective_scan(u, torch.nn.functional.softplus(raw), C, D) - target).square().mean()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 1e-2 * losses[0]


def test_refusals(packages):
    pkg = packages[1]["legs5"]
    u, delta, C, D, c0 = _inputs(pkg.N, SHARED, FIXED_C, seed=3)
    scan = pkg.torch.selective_scan
    with pytest.raises(ValueError, match=r"u must have shape \(B, L, H\)"):
        scan(u[0], delta, C)
    with pytest.raises(ValueError, match="finite and > 0"):
        scan(u, -delta, C)
    with pytest.raises(ValueError, match=r"C must be a tensor of shape \(H, N\)"):
        scan(u, delta, C[:, :2])
    with pytest.raises(ValueError, match="delta must be a float, a 0-d tensor"):
        scan(u, delta[:3], C)
    with pytest.raises(ValueError, match="must have u's dtype"):
        scan(u, delta.float(), C)
    with pytest.raises(ValueError, match="D must be None or a tensor of shape"):
        scan(u, delta, C, D[:1])
    with pytest.raises(ValueError, match="c0 must be None or a tensor of shape"):
        scan(u, delta, C, D, c0[:, :1])
    with pytest.raises(ValueError, match="kernels must be None"):
        scan(u, delta, C, kernels="gpu")
    power = packages[1]["pow4"]      # a general warp: steps beyond the verified range are refused
    with pytest.raises(ValueError, match="DELTA_MAX"):
        power.torch.selective_scan(u, torch.full((u.shape[1],), 10 * power._checks.DELTA_MAX, dtype=u.dtype), C[:, :4])
    scale = packages[1]["scale3"]
    with pytest.raises(NotImplementedError, match="time-varying"):
        scale.torch.selective_scan(u, delta, torch.zeros(3, 3, dtype=torch.float64))


def test_cuda_kernels_on_the_simulator(packages):
    folder = packages[0]
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    proc = subprocess.run([sys.executable, str(HERE / "torch_sim_runner.py"), str(folder), "legs5", "pow4", "bank3"],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [r["name"] for r in rows] == ["legs5", "pow4", "bank3"]
    for row in rows:
        assert row["relative_difference"] < 1e-12, row


def test_packages_import_without_torch(packages):
    """torch is an optional extra: importing a package (and using its numpy kernels) never imports it."""
    folder = packages[0]
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import numpy as np, legs5; "
            "legs5.scan_variable(np.ones((4, 2)), np.full(4, 0.05)); print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "False"
