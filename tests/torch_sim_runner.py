"""Run the PyTorch bridge's CUDA kernels on numba's CUDA simulator and compare them with its CPU kernels
(a child process of ``tests/test_torch_bridge.py``; the simulator must be chosen before numba is imported).

    NUMBA_ENABLE_CUDASIM=1 python tests/torch_sim_runner.py FOLDER NAME [NAME ...]

For each package, for a shared and a per-channel Delta and for a fixed and an input-dependent readout,
``selective_scan(..., kernels="cuda")`` and ``kernels="cpu"`` give y, the last state and the gradients of
one scalar loss with respect to u, delta, C, D and c0; prints one JSON line per package with the largest
absolute difference, relative to the largest value, over all of them.
"""

import importlib
import json
import os
import sys

assert os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", "run with NUMBA_ENABLE_CUDASIM=1"

import torch  # noqa: E402


def compare(pkg):
    mt = pkg.torch
    gen = torch.Generator().manual_seed(3)
    B, L, H, N = 2, 5, 2, pkg.N
    u = torch.randn(B, L, H, dtype=torch.float64, generator=gen, requires_grad=True)
    worst = 0.0
    for shape in [(L,), (B, L, H)]:
        delta = (0.02 + 0.2 * torch.rand(shape, dtype=torch.float64, generator=gen)).requires_grad_()
        for cshape in [(H, N), (B, L, N)]:
            C = torch.randn(cshape, dtype=torch.float64, generator=gen, requires_grad=True)
            D = torch.randn(H, dtype=torch.float64, generator=gen, requires_grad=True)
            c0 = torch.randn(B, H, N, dtype=torch.float64, generator=gen, requires_grad=True)
            results = []
            for kernels in ("cpu", "cuda"):
                y, last = mt.selective_scan(u, delta, C, D, c0, return_last_state=True, kernels=kernels)
                loss = (y * torch.cos(y)).sum() + last.square().sum()
                results.append([y.detach(), last.detach(), *torch.autograd.grad(loss, (u, delta, C, D, c0))])
            for a, b in zip(*results):
                worst = max(worst, float((a - b).abs().max() / max(1e-300, float(a.abs().max()))))
    return worst


def main(folder, names):
    sys.path.insert(0, folder)
    for name in names:
        print(json.dumps({"name": name, "relative_difference": compare(importlib.import_module(name))}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
