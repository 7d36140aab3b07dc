"""symderive.nn (LagSSM, LagSSMModel, DiagonalMemory, load_package) and the training runs of scripts/train.py.

References are independent of the code under test:
- the diagonal memory against a plain numpy loop of its recurrence;
- a LagSSM layer (float64) against the layer's formula recomputed here step by step, with the memory run
  through the package's numpy route (scan_variable, per-step quadrature kernels, then the readout) rather
  than the PyTorch bridge's kernels the layer uses;
- the selective-copying batches against their definition, checked element by element;
- the reduced training run, end to end (scripts/train.py --size reduced): lag LegS must beat chance on
  selective copying by a clear margin, and docs it writes must carry the run's own numbers.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from symderive.codegen.export import MARKER, export_or_reuse  # noqa: E402
from symderive.inputs.specs import parse_basis, parse_warp  # noqa: E402
from symderive.nn import (DiagonalMemory, LagSSM, LagSSMModel, diagonal_selective_scan,  # noqa: E402
                          load_package, package_name)

REPO = Path(__file__).resolve().parent.parent
F = torch.nn.functional


@pytest.fixture(scope="module")
def legs4(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nn")
    return load_package("exponential", "legendre", 4, "1/20", folder), folder


# ---------------------------------------------------------------------- the diagonal memory


def test_diagonal_scan_matches_a_numpy_loop():
    g = torch.Generator().manual_seed(1)
    B, L, H, N = 2, 9, 3, 5
    u, delta = torch.randn(B, L, H, generator=g, dtype=torch.float64), 0.3 * torch.rand(B, L, H, generator=g, dtype=torch.float64)
    C, D = torch.randn(B, L, N, generator=g, dtype=torch.float64), torch.randn(H, generator=g, dtype=torch.float64)
    got = diagonal_selective_scan(u, delta, C, D).numpy()
    want = np.zeros((B, L, H))
    for b in range(B):
        for h in range(H):
            c = np.zeros(N)
            for t in range(L):
                for n in range(N):
                    a = np.exp(-float(delta[b, t, h]) * (n + 1))
                    c[n] = a * c[n] + (1 - a) / (n + 1) * float(u[b, t, h])
                want[b, t, h] = c @ C[b, t].numpy() + float(D[h]) * float(u[b, t, h])
    assert np.max(np.abs(got - want)) < 1e-13
    fixed = diagonal_selective_scan(u, delta, C[0, 0].expand(H, N)).numpy()     # C (H, N): the same C everywhere
    assert np.max(np.abs(fixed - diagonal_selective_scan(u, delta, C[0, 0].expand(B, L, N)).numpy())) < 1e-13


def test_diagonal_memory_refuses_bad_N():
    with pytest.raises(ValueError, match="N must be a positive int"):
        DiagonalMemory(0)


# ---------------------------------------------------------------------- packages


def test_export_or_reuse_keeps_an_identical_package_and_rewrites_a_changed_one(tmp_path):
    warp, basis = parse_warp("exponential"), parse_basis("legendre", 3)
    path, spec, reused = export_or_reuse(warp, basis, "1/10", "pkg3", tmp_path)
    assert not reused
    stamp = {p: p.stat().st_mtime_ns for p in path.rglob("*.py")}
    time.sleep(0.01)
    path2, spec2, reused2 = export_or_reuse(warp, basis, "1/10", "pkg3", tmp_path)
    assert reused2 and path2 == path and spec2.hash == spec.hash
    assert {p: p.stat().st_mtime_ns for p in path.rglob("*.py")} == stamp          # untouched: Numba's cache stays valid
    _, spec3, reused3 = export_or_reuse(warp, basis, "1/5", "pkg3", tmp_path)      # another step: another spec
    assert not reused3 and spec3.hash != spec.hash
    assert spec3.hash in (path / MARKER).read_text()


def test_load_package_names_and_reuses(legs4):
    pkg, folder = legs4
    assert pkg.N == 4 and pkg.__name__ == package_name("exponential", "legendre", 4, "1/20")
    again = load_package("exponential", "legendre", 4, "1/20", folder)
    assert again is pkg
    assert package_name("exponential", "legendre", 4, "1/20") != package_name("exponential", "legendre", 5, "1/20")
    with pytest.raises(ValueError, match="N must be an integer >= 1"):
        load_package("exponential", "legendre", 0, "1/20", folder)


# ---------------------------------------------------------------------- the layer


def _layer_by_hand(layer, pkg, x):
    """The layer's formula (symderive/nn.py docstring) recomputed here, the memory by pkg.scan_variable."""
    L = x.shape[1]
    xz = x @ layer.in_proj.weight.T
    E = layer.channels
    h, z = xz[..., :E], xz[..., E:]
    w = layer.conv.weight[:, 0, :]                     # (E, d_conv): causal, oldest tap first
    k = w.shape[1]
    padded = torch.cat([torch.zeros(x.shape[0], k - 1, E, dtype=x.dtype), h], dim=1)
    h = sum(padded[:, j:j + L] * w[:, j] for j in range(k)) + layer.conv.bias
    h = h * torch.sigmoid(h)
    proj = h @ layer.x_proj.weight.T
    r = layer.dt_rank
    delta = torch.log1p(torch.exp(proj[..., :r] @ layer.dt_proj.weight.T + layer.dt_proj.bias))
    C = proj[..., r:]
    out = []
    for b in range(x.shape[0]):
        states = pkg.scan_variable(h[b].detach().numpy(), delta[b].detach().numpy())      # (L, E, N)
        y = np.einsum("len,ln->le", states, C[b].detach().numpy()) + layer.D.detach().numpy() * h[b].detach().numpy()
        out.append(y)
    y = torch.tensor(np.stack(out)) * (z * torch.sigmoid(z))
    return y @ layer.out_proj.weight.T


def test_layer_matches_its_formula_with_the_numpy_memory(legs4):
    pkg, _ = legs4
    torch.manual_seed(0)
    layer = LagSSM(pkg, 6, expand=2, d_conv=3).double()
    x = torch.randn(2, 11, 6, dtype=torch.float64)
    got = layer(x)
    want = _layer_by_hand(layer, pkg, x)
    assert got.shape == (2, 11, 6)
    assert torch.max(torch.abs(got - want)) < 1e-10 * torch.max(torch.abs(want))
    got.square().sum().backward()                     # gradients reach every parameter
    for name, p in layer.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def test_fixed_step_layer_uses_one_learned_step_per_channel(legs4):
    pkg, _ = legs4
    layer = LagSSM(pkg, 4, selective=False, selective_C=False).double()     # float64: the kernels compiled above
    x = F.silu(torch.randn(3, 5, layer.channels, dtype=torch.float64))
    delta = layer.steps(x)
    assert delta.shape == (3, 5, layer.channels)
    assert torch.equal(delta, F.softplus(layer.dt_bias).expand(3, 5, -1))
    assert layer.dt_proj is None and layer.C.shape == (layer.channels, 4)
    layer(torch.randn(3, 5, 4, dtype=torch.float64)).sum().backward()
    assert layer.dt_bias.grad is not None and layer.dt_bias.grad.abs().sum() > 0


def test_steps_are_clamped_into_the_packages_verified_range(tmp_path):
    pkg = load_package("f=1/(1-x)", "legendre", 3, "1/100", tmp_path)
    low, high = float(pkg._checks.DELTA_MIN), float(pkg._checks.DELTA_MAX)
    assert 0 < low < high < np.inf                      # a general warp: verified steps only
    layer = LagSSM(pkg, 4)
    assert layer.step_range == (max(low, 1e-6), high)       # and never below 1e-6 (softplus underflow)
    with torch.no_grad():
        layer.dt_proj.bias.fill_(1e3)                   # softplus(1e3) = 1e3 > DELTA_MAX
    assert float(layer.steps(torch.randn(1, 3, layer.channels)).detach().max()) == high


def test_layer_errors(legs4):
    pkg, folder = legs4
    with pytest.raises(TypeError, match="generated package with a PyTorch bridge"):
        LagSSM(object(), 4)
    with pytest.raises(ValueError, match="d_model must be an int >= 1"):
        LagSSM(pkg, 0)
    with pytest.raises(ValueError, match="dt_min <= dt_max"):
        LagSSM(pkg, 4, dt_min=0.1, dt_max=0.01)
    layer = LagSSM(pkg, 4)
    with pytest.raises(ValueError, match=r"shape \(batch, length, 4\)"):
        layer(torch.randn(2, 3, 5))
    with pytest.raises(ValueError, match="not an exported package folder"):
        LagSSM.from_package(folder / "nothing_here", 4)
    assert LagSSM.from_package(Path(pkg.__file__).parent, 4).N == 4
    with pytest.raises(ValueError, match="cannot be trained: its step has no derivative route"):
        LagSSM.from_package(REPO / "generated" / "legs_scale_n64", 4)      # a time-varying warp
    with pytest.raises(ValueError, match="exactly one of vocab_size"):
        LagSSMModel([layer], 3)
    with pytest.raises(ValueError, match="same d_model"):
        LagSSMModel([layer, LagSSM(pkg, 6)], 3, vocab_size=5)


def test_model_shapes_for_tokens_and_features(legs4):
    pkg, _ = legs4
    tokens = LagSSMModel.build(pkg, 2, 8, 7, vocab_size=7).double()
    assert tokens(torch.randint(0, 7, (3, 10))).shape == (3, 10, 7)
    features = LagSSMModel.build(DiagonalMemory(4), 1, 8, 10, d_input=1)
    assert features(torch.rand(2, 6, 1)).shape == (2, 6, 10)


# ---------------------------------------------------------------------- the tasks


def test_copying_batches_follow_their_definition():
    from symderive.experiments.training import NOISE, RECALL, copying_batch
    tokens, targets = copying_batch(torch.Generator().manual_seed(3), 64, 12, 3, 5)
    assert tokens.shape == (64, 15) and targets.shape == (64, 3)
    for row, want in zip(tokens.tolist(), targets.tolist()):
        context, recall = row[:12], row[12:]
        assert recall == [RECALL] * 3
        data = [t for t in context if t != NOISE]
        assert data == want and all(2 <= t < 7 for t in data)
    assert len({tuple(r) for r in targets.tolist()}) > 40          # drawn, not repeated


def test_digits_split_is_the_bundled_dataset():
    pytest.importorskip("sklearn")
    from symderive.experiments.training import digits_split
    x_train, y_train, x_test, y_test = digits_split()
    assert x_train.shape == (1437, 64, 1) and x_test.shape == (360, 64, 1)
    assert float(x_train.min()) == 0.0 and float(x_train.max()) == 1.0
    assert sorted(set(y_test.tolist())) == list(range(10))
    again = digits_split()
    assert torch.equal(again[0], x_train) and torch.equal(again[3], y_test)


# ---------------------------------------------------------------------- the reduced run, end to end


def test_reduced_training_run_beats_chance(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    env = dict(os.environ, SYMDERIVE_CACHE_DIR=str(tmp_path / "cache"), SYMDERIVE_QUIET="1")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "train.py"), "--size", "reduced", "--out",
                           str(tmp_path / "out"), "--no-progress"], capture_output=True, text=True, env=env,
                          timeout=600)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(f"reduced training run: {seconds:.1f} s")
    data = json.loads((tmp_path / "out" / "training.json").read_text())
    runs = {(r["task"], r["memory"]): r for r in data["runs"]}
    legs = runs[("copy", "legs")]
    assert legs["chance"] == 0.25
    assert legs["accuracy"][-1] >= 2 * legs["chance"], legs["accuracy"]      # a clear margin over chance
    assert set(runs) == {("copy", "legs"), ("copy", "diagonal"), ("digits", "legs"), ("digits", "diagonal")}
    page = (tmp_path / "out" / "training.md").read_text()
    assert f"| lag LegS (selective) | {legs['parameters']} | {100 * legs['accuracy'][-1]:.1f} %" in page
    for name in ("training_copy.png", "training_digits.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the page rendered again from the saved runs, without training, is the same page
    again = subprocess.run([sys.executable, str(REPO / "scripts" / "train.py"), "--report-from",
                            str(tmp_path / "out" / "training.json"), "--out", str(tmp_path / "again")],
                           capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (tmp_path / "again" / "training.md").read_text() == page
    bad = subprocess.run([sys.executable, str(REPO / "scripts" / "train.py"), "--report-from", str(tmp_path / "none.json")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 2 and "not a training.json" in bad.stderr


@pytest.mark.slow
def test_readme_layer_block_runs(tmp_path, monkeypatch):
    """The README's symderive.nn block, as written (it compiles two packages' kernels: slow)."""
    import re
    monkeypatch.setenv("SYMDERIVE_CACHE_DIR", str(tmp_path))
    text = (REPO / "README.md").read_text()
    block = re.search(r"### A trained layer: `symderive.nn.LagSSM`\n\n```python\n(.*?)```", text, re.S).group(1)
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["logits"].shape == (4, 40, 16)
    assert namespace["layer"].N == 16 and namespace["layer"].step_range[1] < np.inf
