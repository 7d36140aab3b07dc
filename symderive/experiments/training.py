"""Training runs of LagSSM models (symderive.nn) on two tasks, for scripts/train.py and docs/training.md.

Tasks:

- **Selective copying** (the Mamba paper's synthetic task): a sequence of ``n_context`` tokens, all the
  noise token 0 except ``n_data`` data tokens (symbols 2 .. n_symbols + 1, uniform) at random positions,
  followed by ``n_data`` recall tokens 1; at the recall positions the model must output the data tokens
  in the order they came. Fresh random sequences every step (a seeded generator); a fixed held-out set of
  sequences for accuracy (the fraction of recalled tokens right). Chance is 1 / n_symbols.
- **Sequential digits**: scikit-learn's bundled 8 x 8 digit images (1797; nothing is downloaded), read
  pixel by pixel (64 steps of one value in [0, 1]) and classified from the model's output at the last
  step. A fixed split (seed 0): 1437 train, 360 test. Chance is 1 / 10.

Memories (every model has the same layer code, sizes and training; only the memory differs):
lag LegS (exponential warp x Legendre, selective step), lag LegT (window x Legendre, selective), the
custom power-law warp f = 1/(1-x) x Legendre (selective), LegS with a learned fixed step per channel
(non-selective, as S4), and the S4D-real diagonal memory (A = -diag(1..N), selective: Mamba's memory).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from torch.nn import functional as F

from ..nn import DiagonalMemory, LagSSMModel, load_package

NOISE, RECALL = 0, 1


# ------------------------------------------------------------------------------------------------ sizes


@dataclass(frozen=True)
class Size:
    """Everything a run's size fixes."""
    name: str
    N: int                    # basis functions (state size per channel)
    d_model: int
    n_layers: int
    seeds: tuple
    # selective copying
    n_context: int
    n_data: int
    n_symbols: int
    copy_epochs: int
    copy_steps: int           # optimizer steps per epoch
    copy_batch: int
    copy_eval: int            # held-out sequences
    # sequential digits
    digit_epochs: int
    digit_batch: int
    memories: tuple = field(default=())
    lr: float = 3e-3
    fewer_seeds: dict = field(default_factory=dict)     # memory -> seeds, for a memory too slow for all of them

    def seeds_of(self, key: str) -> tuple:
        return tuple(self.fewer_seeds.get(key, self.seeds))


MEMORY_KEYS = ("legs", "legt", "power", "legs_fixed", "diagonal")

SIZES = {
    # Mamba's selective copying uses a vocabulary of 16 tokens; here 16 = noise + recall + 14 data
    # symbols. Its sequences are 4096 long with 16 data tokens, trained on GPUs: far beyond 2 CPU
    # cores in 30 minutes, so the full size keeps the vocabulary and shortens the sequence
    # (32 context tokens, 4 data tokens); docs/training.md says so.
    "full": Size("full", N=16, d_model=32, n_layers=2, seeds=(0, 1, 2),
                 n_context=32, n_data=4, n_symbols=14, copy_epochs=12, copy_steps=40, copy_batch=32, copy_eval=512,
                 digit_epochs=6, digit_batch=32, memories=MEMORY_KEYS,
                 # the power law's per-step quadrature (a general warp: no closed form for a variable
                 # step) costs about 10x LegS per step on the CPU: one seed fits the half hour, three do not
                 fewer_seeds={"power": (0,)}),
    "reduced": Size("reduced", N=8, d_model=16, n_layers=2, seeds=(0,),
                    n_context=16, n_data=2, n_symbols=4, copy_epochs=8, copy_steps=40, copy_batch=32, copy_eval=256,
                    digit_epochs=2, digit_batch=32, memories=("legs", "diagonal")),
}

MEMORY_LABELS = {
    "legs": "lag LegS (selective)",
    "legt": "lag LegT window (selective)",
    "power": "lag power law 1/(1-x) (selective)",
    "legs_fixed": "lag LegS, learned fixed step (S4-like)",
    "diagonal": "S4D-real diagonal (selective, Mamba's memory)",
}

PACKAGE_INPUTS = {              # warp, basis, the package's Delta for load_package
    "legs": ("exponential", "legendre", "1/100"),
    "legt": ("linear:window=1", "legendre", "1/100"),
    # a general warp's per-step rule is verified for steps from 1e-9 to 1000 times the package's Delta:
    # at 1/1000 that is up to 1 (beyond the steps a layer starts from), and the rule needs fewer nodes
    # (38 against 133 at 1/100 for N = 16), so each step costs less
    "power": ("f=1/(1-x)", "legendre", "1/1000"),
    "legs_fixed": ("exponential", "legendre", "1/100"),
}


def memory_for(key: str, N: int, folder=None):
    """The memory of ``key`` (MEMORY_KEYS) with N functions: a generated package or a DiagonalMemory."""
    if key == "diagonal":
        return DiagonalMemory(N)
    warp, basis, delta = PACKAGE_INPUTS[key]
    return load_package(warp, basis, N, delta, folder)


def describe_kernels(memory) -> str:
    """How a memory's steps are computed, read from the package (for docs/training.md)."""
    if isinstance(memory, DiagonalMemory):
        return "torch loop, exp(-delta (1..N))"
    cpu = memory._cpu
    kind = memory.METADATA.get("variable_kind")
    text = f"{kind} per-step kernel, d/dDelta {cpu.DERIVATIVE_ROUTE}"
    if kind == "general":
        text += (f", {cpu.M}-node quadrature per step, steps verified in [{memory._checks.DELTA_MIN:.0e}, "
                 f"{memory._checks.DELTA_MAX:g}]")
    return text + (", block kernels" if cpu.BRIDGE_BLOCKS else ", per-channel backward")


def build_model(key: str, memory, size: Size, task: str, seed: int) -> LagSSMModel:
    """A model for ``task`` ('copy' or 'digits') over ``memory``; parameters drawn from ``seed``."""
    torch.manual_seed(seed)
    kwargs = dict(selective=(key != "legs_fixed"))
    if task == "copy":
        vocab = size.n_symbols + 2
        return LagSSMModel.build(memory, size.n_layers, size.d_model, vocab, vocab_size=vocab, **kwargs)
    return LagSSMModel.build(memory, size.n_layers, size.d_model, 10, d_input=1, **kwargs)


# ------------------------------------------------------------------------------------------------ data


def copying_batch(generator: torch.Generator, batch: int, n_context: int, n_data: int, n_symbols: int):
    """(tokens (batch, n_context + n_data), targets (batch, n_data)): module docstring."""
    positions = torch.rand(batch, n_context, generator=generator).argsort(dim=1)[:, :n_data].sort(dim=1).values
    data = torch.randint(2, 2 + n_symbols, (batch, n_data), generator=generator)
    tokens = torch.full((batch, n_context + n_data), NOISE, dtype=torch.long)
    tokens.scatter_(1, positions, data)
    tokens[:, n_context:] = RECALL
    return tokens, data


def digits_split():
    """(x_train (1437, 64, 1), y_train, x_test (360, 64, 1), y_test): scikit-learn's bundled digits, pixels
    scaled to [0, 1], a fixed permutation (seed 0)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError("sequential digits need scikit-learn (its bundled 8x8 digits): "
                          "pip install 'symderive[train]'") from error
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32).unsqueeze(-1)
    y = torch.tensor(digits.target, dtype=torch.long)
    order = torch.from_numpy(np.random.default_rng(0).permutation(len(y)))
    x, y = x[order], y[order]
    return x[360:], y[360:], x[:360], y[:360]


# ------------------------------------------------------------------------------------------------ runs


@dataclass
class RunResult:
    task: str
    memory: str
    seed: int
    parameters: int
    accuracy: list            # held-out accuracy after each epoch
    loss: list                # mean training loss of each epoch
    epoch_seconds: list       # wall time of each epoch (training only)
    chance: float


def _progress(total, description, enabled):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=description, unit="step", leave=False, dynamic_ncols=True)


@torch.no_grad()
def _copy_accuracy(model, tokens, targets, n_data):
    model.eval()
    logits = model(tokens)[:, -n_data:]
    model.train()
    return float((logits.argmax(-1) == targets).float().mean())


@torch.no_grad()
def _digit_accuracy(model, x, y, batch=180):
    model.eval()
    right = 0
    for start in range(0, len(y), batch):
        logits = model(x[start:start + batch])[:, -1]
        right += int((logits.argmax(-1) == y[start:start + batch]).sum())
    model.train()
    return right / len(y)


def _optimizer(model, lr, total_steps):
    """AdamW at ``lr`` with a linear warm-up over the first 5 % of the steps, then cosine decay to 0."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    warm = max(1, total_steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps)))
    return optimizer, schedule


def _train(model, result: RunResult, epochs: int, steps: int, lr: float, batches, loss_of, evaluate, label: str,
           progress: bool) -> RunResult:
    """The loop both tasks share: per epoch, ``steps`` AdamW steps on ``loss_of(model, inputs, targets)`` for
    the (inputs, targets) that ``batches()`` yields (one call per epoch), then ``evaluate(model)`` on
    held-out data. Fills ``result``'s accuracy, loss and epoch_seconds; a tqdm bar per epoch on stderr."""
    optimizer, schedule = _optimizer(model, lr, epochs * steps)
    for epoch in range(epochs):
        bar = _progress(steps, f"{label} epoch {epoch + 1}/{epochs}", progress)
        start, losses = time.perf_counter(), []
        for inputs, targets in batches():
            loss = loss_of(model, inputs, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
        result.epoch_seconds.append(time.perf_counter() - start)
        if bar is not None:
            bar.close()
        result.loss.append(float(np.mean(losses)))
        result.accuracy.append(evaluate(model))
    return result


def train_copying(key, memory, size: Size, seed: int, progress: bool = True) -> RunResult:
    """One model on selective copying: ``size.copy_epochs`` epochs of ``size.copy_steps`` steps."""
    model = build_model(key, memory, size, "copy", seed)
    data = torch.Generator().manual_seed(10_000 + seed)
    held_out = copying_batch(torch.Generator().manual_seed(999), size.copy_eval, size.n_context, size.n_data,
                             size.n_symbols)
    result = RunResult("copy", key, seed, sum(p.numel() for p in model.parameters()), [], [], [],
                       1.0 / size.n_symbols)

    def batches():
        for _ in range(size.copy_steps):
            yield copying_batch(data, size.copy_batch, size.n_context, size.n_data, size.n_symbols)

    def loss_of(model, tokens, targets):
        logits = model(tokens)[:, -size.n_data:]
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    return _train(model, result, size.copy_epochs, size.copy_steps, size.lr, batches, loss_of,
                  lambda m: _copy_accuracy(m, *held_out, size.n_data), f"copy {key} seed {seed}", progress)


def train_digits(key, memory, size: Size, seed: int, split=None, progress: bool = True) -> RunResult:
    """One model on sequential digits: ``size.digit_epochs`` passes over the 1437 training images."""
    x_train, y_train, x_test, y_test = split or digits_split()
    model = build_model(key, memory, size, "digits", seed)
    order_gen = torch.Generator().manual_seed(20_000 + seed)
    steps = math.ceil(len(y_train) / size.digit_batch)
    result = RunResult("digits", key, seed, sum(p.numel() for p in model.parameters()), [], [], [], 0.1)

    def batches():
        order = torch.randperm(len(y_train), generator=order_gen)
        for i in range(steps):
            index = order[i * size.digit_batch:(i + 1) * size.digit_batch]
            yield x_train[index], y_train[index]

    def loss_of(model, pixels, labels):
        return F.cross_entropy(model(pixels)[:, -1], labels)

    return _train(model, result, size.digit_epochs, steps, size.lr, batches, loss_of,
                  lambda m: _digit_accuracy(m, x_test, y_test), f"digits {key} seed {seed}", progress)


# ------------------------------------------------------------------------------------------------ all runs


def warm_memory(key, memory, size: Size) -> float:
    """Seconds of one forward + backward of a 2-layer model on a tiny batch: the memory's kernels compiled
    (or loaded from Numba's cache), so that no epoch's time includes compiling."""
    model = build_model(key, memory, size, "copy", 0)
    tokens, _ = copying_batch(torch.Generator().manual_seed(0), 2, 8, 2, size.n_symbols)
    start = time.perf_counter()
    model(tokens).sum().backward()
    return time.perf_counter() - start


def run_all(size: Size, progress: bool = True, log=print, folder=None) -> dict:
    """Every memory of ``size`` on both tasks for each of its seeds (``size.seeds_of``). Returns {"runs":
    [RunResult], "warm": {key: seconds}, "load": {key: seconds}, "kernels": {key: text}, "seconds": total,
    "threads": torch threads}."""
    started = time.perf_counter()
    split = digits_split() if size.digit_epochs else None
    runs, warm, load, kernels = [], {}, {}, {}
    for key in size.memories:
        t0 = time.perf_counter()
        memory = memory_for(key, size.N, folder)
        load[key] = time.perf_counter() - t0
        kernels[key] = describe_kernels(memory)
        warm[key] = warm_memory(key, memory, size)
        log(f"{MEMORY_LABELS[key]}: package ready in {load[key]:.1f} s, first forward + backward (compiling or "
            f"loading kernels) {warm[key]:.1f} s")
        for seed in size.seeds_of(key):
            if size.copy_epochs:
                result = train_copying(key, memory, size, seed, progress)
                runs.append(result)
                log(f"  copy   seed {seed}: accuracy {result.accuracy[-1]:.3f}, {np.mean(result.epoch_seconds):.2f} s/epoch")
            if size.digit_epochs:
                result = train_digits(key, memory, size, seed, split, progress)
                runs.append(result)
                log(f"  digits seed {seed}: accuracy {result.accuracy[-1]:.3f}, {np.mean(result.epoch_seconds):.2f} s/epoch")
    return {"runs": runs, "warm": warm, "load": load, "kernels": kernels, "seconds": time.perf_counter() - started,
            "threads": torch.get_num_threads()}


class Summary(NamedTuple):
    """One memory's runs on one task: final accuracies over seeds, seconds per epoch, parameters."""
    mean: float
    std: float          # sample std over seeds (0 for one seed)
    low: float
    high: float
    seconds: float      # mean seconds per epoch
    parameters: int
    seeds: int


def summary(runs, task: str) -> dict:
    """{memory: Summary} of the runs of ``task``, in the order the memories ran."""
    table = {}
    for key in dict.fromkeys(r.memory for r in runs if r.task == task):
        mine = [r for r in runs if r.task == task and r.memory == key]
        final = np.array([r.accuracy[-1] for r in mine])
        spread = float(final.std(ddof=1)) if len(final) > 1 else 0.0
        table[key] = Summary(float(final.mean()), spread, float(final.min()), float(final.max()),
                             float(np.mean([np.mean(r.epoch_seconds) for r in mine])), mine[0].parameters, len(mine))
    return table


def _compare(a_key, a, b_key, b, subject: bool = True) -> str:
    """'X n points above/below Y (m % against m %; ...)' with what the seeds say about the gap."""
    gap = 100 * (a.mean - b.mean)
    text = (f"{MEMORY_LABELS[a_key] + ' ' if subject else ''}{abs(gap):.1f} points {'above' if gap >= 0 else 'below'} "
            f"{MEMORY_LABELS[b_key]} ({100 * a.mean:.1f} % against {100 * b.mean:.1f} %")
    if a.seeds < 2 or b.seeds < 2:
        one = MEMORY_LABELS[a_key] if a.seeds < 2 else MEMORY_LABELS[b_key]
        return text + f"; {one} ran one seed only, so its spread is unmeasured and the gap may be noise)"
    if a.low > b.high or b.low > a.high:
        return text + "; every seed of one beat every seed of the other)"
    return text + "; their seed ranges overlap, so this run does not separate them)"


def verdict(table: dict, task_name: str) -> str:
    """One paragraph: which memory won ``task_name`` and by how much, and how the selective lag memories
    compare with the diagonal and the fixed-step baselines; every number from ``table``."""
    if not table:
        return ""
    ranked = sorted(table.items(), key=lambda item: -item[1].mean)
    (best, b), rest = ranked[0], ranked[1:]
    text = f"On {task_name}, {MEMORY_LABELS[best]} scored highest ({100 * b.mean:.1f} %, mean over {b.seeds} " \
           f"seed{'s' if b.seeds > 1 else ''})"
    if rest:
        text += ", " + _compare(best, b, *rest[0], subject=False)
        worst, w = ranked[-1]
        if worst != rest[0][0]:
            text += f". Lowest: {MEMORY_LABELS[worst]} ({100 * w.mean:.1f} %)"
    text += "."
    for baseline in ("diagonal", "legs_fixed"):
        if baseline in table:
            lag = [k for k in table if k not in ("diagonal", "legs_fixed")]
            above = [k for k in lag if table[k].mean > table[baseline].mean]
            if lag:
                text += (f" {len(above)} of the {len(lag)} selective lag memories had a higher mean than "
                         f"{MEMORY_LABELS[baseline]} ({100 * table[baseline].mean:.1f} %)")
                if "legs" in table:
                    text += "; " + _compare("legs", table["legs"], baseline, table[baseline])
                text += "."
    return text
