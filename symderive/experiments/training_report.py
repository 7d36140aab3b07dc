"""docs/training.md and its figures, written from the results of :func:`training.run_all`.

Every number in the page is read from the runs passed in; nothing is typed in by hand.
"""

from __future__ import annotations

import dataclasses
import json
import platform
from pathlib import Path

import numpy as np

from .figures import _save, pyplot
from .training import MEMORY_LABELS, RunResult, Size, summary, verdict

TASK_TITLES = {"copy": "Selective copying", "digits": "Sequential digits (8x8, pixel by pixel)"}


def figure_curves(runs, task: str, path) -> Path:
    """Held-out accuracy after each epoch: the mean over seeds (line) and the range (band), per memory."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    chance = None
    for key in dict.fromkeys(r.memory for r in runs if r.task == task):
        curves = np.array([r.accuracy for r in runs if r.task == task and r.memory == key])
        chance = next(r.chance for r in runs if r.task == task)
        epochs = np.arange(1, curves.shape[1] + 1)
        line, = ax.plot(epochs, curves.mean(axis=0), marker="o", markersize=3, label=MEMORY_LABELS[key])
        if len(curves) > 1:
            ax.fill_between(epochs, curves.min(axis=0), curves.max(axis=0), color=line.get_color(), alpha=0.15)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1, label="chance")
    ax.set_xlabel("epoch")
    ax.set_ylabel("held-out accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title(TASK_TITLES[task] + " (mean over seeds; band: min to max)")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def _table(table: dict) -> list[str]:
    lines = ["| memory | parameters | final accuracy, mean ± std | min .. max | seeds | s / epoch |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for key, (mean, std, low, high, seconds, params, seeds) in sorted(table.items(), key=lambda kv: -kv[1].mean):
        spread = f"± {100 * std:.1f}" if seeds > 1 else "(one seed: no spread)"
        lines.append(f"| {MEMORY_LABELS[key]} | {params} | {100 * mean:.1f} % {spread} | "
                     f"{100 * low:.1f} .. {100 * high:.1f} | {seeds} | {seconds:.2f} |")
    return lines


def write_report(result: dict, size: Size, out, command: str) -> list[Path]:
    """Write training.md, training_copy.png / training_digits.png and training.json into ``out``; returns
    the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = result["runs"]
    files = []
    tasks = [t for t in ("copy", "digits") if any(r.task == t for r in runs)]
    for task in tasks:
        files.append(figure_curves(runs, task, out / f"training_{task}.png"))
    lines = [
        "# Training derived memories: selective copying and sequential digits",
        "",
        f"Written by `{command}` (size `{size.name}`); every number below comes from that run. "
        "Rerun the command to reproduce the page; the accuracies repeat exactly on the same machine and thread "
        "count, the times do not. The runs are saved in training.json; `python scripts/train.py --report-from "
        "training.json` renders this page and the figures again from them, without training.",
        "",
        "Models (`symderive.nn.LagSSMModel`): an input layer (token embedding or a linear map of the pixel), "
        f"{size.n_layers} `LagSSM` layers of width d_model = {size.d_model} (E = {2 * size.d_model} channels, "
        f"N = {size.N} state functions per channel, causal conv of width 4, input-dependent readout C_t, skip D, "
        "SiLU gate) with pre-norm residuals, a final LayerNorm and a linear head. The models differ only in the "
        "memory (A(delta), B(delta)) and, for the fixed-step model, in the step being a learned constant per "
        "channel instead of softplus(W x_t + b):",
        "",
    ]
    for key in size.memories:
        lines.append(f"- **{MEMORY_LABELS[key]}**" + {
            "legs": ": exponential warp x Legendre (HiPPO-LegS), the generated package's CPU kernels.",
            "legt": ": window warp `linear:window=1` x Legendre (HiPPO-LegT).",
            "power": ": the custom warp `f=1/(1-x)` x Legendre, a non-affine warp (the general per-step "
                     "kernel with its quadrature derivative; the package is exported at Delta = 1/1000, so its "
                     "rule is verified for steps up to 1000 times that and needs fewer nodes).",
            "legs_fixed": ": the LegS package with delta = softplus(b), one learned step per channel.",
            "diagonal": ": A = -diag(1..N), B = 1, zero-order hold (S4D-real, Mamba's initialisation held "
                        "fixed), a plain torch loop in the same selective-scan shape.",
        }[key])
    lines += [
        "",
        f"Training: AdamW, learning rate {size.lr:g} with a 5 % warm-up and cosine decay, gradient norm clipped "
        "at 1, float32, batch " f"{size.copy_batch}; seeds {', '.join(map(str, size.seeds))} (parameters and "
        "data order)" + "".join(f"; {MEMORY_LABELS[k]}: seed {', '.join(map(str, v))} only"
                                for k, v in size.fewer_seeds.items() if k in size.memories)
        + ". Accuracy is measured on held-out data after every epoch."
        + (" A memory with fewer seeds is one whose steps cost so much more on the CPU (the Time section gives "
           "its seconds per epoch) that all seeds would not fit the run's half hour; its spread is not measured."
           if size.fewer_seeds else ""),
        "",
        "Tasks:",
        "",
        f"- **Selective copying**: {size.n_context} tokens of noise holding {size.n_data} data tokens at random "
        f"positions (symbols drawn from {size.n_symbols}; vocabulary {size.n_symbols + 2} with the noise and "
        f"recall tokens), then {size.n_data} recall tokens at which the model must output the data tokens in "
        f"order. Fresh sequences every step; {size.copy_epochs} epochs of {size.copy_steps} steps; accuracy on "
        f"{size.copy_eval} held-out sequences (fraction of recalled tokens right; chance "
        f"{100 / size.n_symbols:.1f} %). The Mamba paper's setting is far larger (sequences of 4096 tokens with 16 "
        "data tokens, vocabulary 16, trained on GPUs); "
        + ("this run keeps the vocabulary and shortens the sequence to fit two CPU cores in about half an hour."
           if size.n_symbols + 2 == 16 else "this reduced run is smaller still (the test suite's run)."),
    ]
    if size.digit_epochs:
        lines.append(
            f"- **Sequential digits**: scikit-learn's bundled 8x8 digits (1797 images, nothing downloaded), one "
            f"pixel per step (64 steps), classified from the output at the last step; a fixed split (seed 0) of "
            f"1437 training and 360 test images; {size.digit_epochs} epochs; chance 10 %.")
    lines += ["", "## Results", ""]
    paragraphs = []
    for task in tasks:
        table = summary(runs, task)
        lines += [f"### {TASK_TITLES[task]}", "", f"![{TASK_TITLES[task]}](training_{task}.png)", ""]
        lines += _table(table) + [""]
        paragraphs.append(verdict(table, TASK_TITLES[task].split(" (")[0].lower()))
    budget = (f"{size.copy_epochs * size.copy_steps} steps of selective copying"
              + (f" and {size.digit_epochs} epochs of digits" if size.digit_epochs else ""))
    lines += ["## Which memory won", ""]
    for paragraph in paragraphs:
        if paragraph:
            lines += [paragraph, ""]
    lines += [f"These are results of a short training budget ({budget}, the same for every memory) at one "
              "model size; longer training or other sizes may order the memories differently. The diagonal "
              "baseline keeps A and B fixed at S4D-real's values, as the lag memories keep theirs; Mamba "
              "itself also learns A and an input-dependent B.", ""]
    lines += [
        "## Time",
        "",
        "Seconds per epoch are the mean wall time of the training steps of an epoch (held-out evaluation not "
        "included), over epochs and seeds. The lag memories run the generated packages' Numba kernels through "
        "the PyTorch bridge (`NAME.torch.selective_scan`); the diagonal memory is a torch loop, so its times "
        "measure that loop, not a fused kernel. Before training, each memory's first forward + backward on a "
        "tiny batch (compiling its kernels, or loading them from Numba's cache on a later run):",
        "",
        "| memory | kernels | package ready (s) | first forward + backward (s) |",
        "| --- | --- | ---: | ---: |",
    ]
    for key in result["load"]:
        lines.append(f"| {MEMORY_LABELS[key]} | {result['kernels'][key]} | {result['load'][key]:.1f} | "
                     f"{result['warm'][key]:.1f} |")
    lines += [
        "",
        f"Whole run: {result['seconds'] / 60:.1f} minutes on {platform.machine()} with {result['threads']} torch "
        f"threads (Python {platform.python_version()}).",
        "",
    ]
    path = out / "training.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    files.append(path)
    files.append(write_json(result, size, out / "training.json"))
    return files


def write_json(result: dict, size: Size, path) -> Path:
    """The runs as JSON (every accuracy, loss and epoch time), for checks and plots of one's own."""
    data = {"size": dataclasses.asdict(size), "seconds": result["seconds"], "threads": result["threads"],
            "package_ready_seconds": result["load"], "first_call_seconds": result["warm"],
            "kernels": result["kernels"],
            "runs": [dataclasses.asdict(r) for r in result["runs"]]}
    path = Path(path)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path


def read_json(path) -> tuple[dict, Size]:
    """(result, size) from a training.json that :func:`write_json` wrote: the runs, to render the page again
    (``scripts/train.py --report-from``) without training."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    size = Size(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in data["size"].items()})
    result = {"runs": [RunResult(**r) for r in data["runs"]], "warm": data["first_call_seconds"],
              "load": data["package_ready_seconds"], "kernels": data["kernels"], "seconds": data["seconds"],
              "threads": data["threads"]}
    return result, size
