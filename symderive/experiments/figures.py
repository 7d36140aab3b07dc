"""The figures (matplotlib, the ``plot`` extra). Each ``figure_*`` function takes computed data and a path.

- Figure 1 (``fig1_warp.png``): warps ``sigma_t(s)`` from the history onto ``Z = (0, 1]`` and the measures
  ``omega_t(s) = sigma_t'(s)`` they induce;
- Figure 3 (``fig3_lag_shift.png``): basis functions lag-shifted backward (``A_Delta e_k``) and forward
  (the adjoint, ``A_Delta^T e_k``) for a dilation and for a window translation;
- Figure 4 (``fig4_memory.png``): the final memory state reconstructed, lag model vs HiPPO-LegS, with
  the exponential measure;
- Figure 5 (``fig5_multires.png``): the multi-resolution bank reconstructing several horizons at once.

Files are written at a fixed size and resolution without a "Software" stamp.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DPI = 110


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend, or a clear error naming the extra."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the environment
        raise RuntimeError("the figures need matplotlib: pip install -e '.[plot]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "legend.fontsize": 8, "figure.dpi": DPI})
    return plt


def _save(fig, path) -> Path:
    path = Path(path)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    pyplot().close(fig)
    return path


def figure_warps(data: dict, path) -> Path:
    """``data``: ``x`` (s - t), and ``curves``: list of (label, sigma, omega)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    x = data["x"]
    for label, sigma, omega in data["curves"]:
        line, = left.plot(x, sigma, label=label)
        right.plot(x, omega, color=line.get_color(), label=label)
    left.set_title(r"warp $\sigma_t(s)$: history $(-\infty, t]$ onto $Z = (0, 1]$")
    left.set_xlabel(r"$s - t$ (time before the present)")
    left.set_ylabel(r"$z = \sigma_t(s)$")
    left.set_ylim(0, 1.05)
    left.legend(loc="upper left")
    right.set_title(r"induced measure $\omega_t(s) = w(\sigma_t(s))\,\sigma_t'(s)$, $w = 1$")
    right.set_xlabel(r"$s - t$")
    right.set_ylabel(r"$\omega_t(s)$")
    right.set_ylim(bottom=0)
    right.legend(loc="upper left")
    return _save(fig, path)


def figure_lag_shift(data: dict, path) -> Path:
    """``data["rows"]``: list of dicts with ``title``, ``z``, ``delta_text``, ``curves``: list of
    (k, p_k, backward exact, backward projected, forward exact, forward projected)."""
    plt = pyplot()
    rows = data["rows"]
    fig, axes = plt.subplots(len(rows), 2, figsize=(10, 3.4 * len(rows)), constrained_layout=True, squeeze=False)
    for (back, fwd), row in zip(axes, rows):
        z = row["z"]
        for k, base, b_exact, b_proj, f_exact, f_proj in row["curves"]:
            line, = back.plot(z, base, lw=0.8, alpha=0.45, label=rf"$p_{k}(z)$")
            c = line.get_color()
            back.plot(z, b_exact, ls="--", color=c, lw=1.2, label=rf"$(L_\Delta p_{k})(z)$")
            back.plot(z, b_proj, color=c, lw=1.8, label=rf"$\sum_n A_\Delta[n,{k}]\,p_n$")
            fwd.plot(z, base, lw=0.8, alpha=0.45, color=c, label=rf"$p_{k}(z)$")
            fwd.plot(z, f_exact, ls="--", color=c, lw=1.2, label=rf"$(L^*_\Delta p_{k})(z)$")
            fwd.plot(z, f_proj, color=c, lw=1.8, label=rf"$\sum_n A_\Delta[{k},n]\,p_n$")
        back.set_title(f"{row['title']}: backward shift\n{row['delta_text']}")
        fwd.set_title(f"{row['title']}: forward shift (the adjoint)\n{row['delta_text']}")
        for ax in (back, fwd):
            ax.axhline(0, color="0.6", lw=0.5)
            ax.set_xlabel("z (0: oldest history, 1: present)")
            ax.set_xlim(0, 1)
            ax.legend(loc="upper left", ncol=2, fontsize=7)
        if row.get("cutoff") is not None:
            back.axvline(row["cutoff"], color="0.3", ls=":", lw=1)
            back.annotate("newest slice\n(enters via B)", (row["cutoff"], back.get_ylim()[0]), xytext=(4, 6),
                          textcoords="offset points", fontsize=7, color="0.3")
        if row.get("forward_cut") is not None:
            fwd.axvline(row["forward_cut"], color="0.3", ls=":", lw=1)
    return _save(fig, path)


def figure_memory(data: dict, path) -> Path:
    """``data``: ``s`` (times), ``u``, ``lag``, ``hippo``, ``exact`` (reconstructions), ``omega``, texts."""
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.2), constrained_layout=True, sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    s = data["s"]
    top.plot(s, data["u"], color="0.55", lw=0.9, label="input u(s) (held samples)")
    top.plot(s, data["lag"], color="C0", lw=2.2, label=f"lag operator model ({data['lag_label']})")
    top.plot(s, data["hippo"], color="C3", lw=1.3, ls="--", label=f"HiPPO-LegS baseline ({data['hippo_label']})")
    top.set_ylabel("u and its reconstruction from the final state $c_T$")
    top.set_title(data["title"])
    twin = top.twinx()
    twin.fill_between(s, 0, data["omega"], color="C2", alpha=0.15, lw=0)
    twin.plot(s, data["omega"], color="C2", lw=1.0, label=r"measure $\omega_T(s) = e^{s - T}$")
    twin.set_ylabel(r"$\omega_T(s)$", color="C2")
    twin.set_ylim(0, 1.05 * float(np.nanmax(data["omega"])))
    handles = top.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    top.legend(handles[0] + extra[0], handles[1] + extra[1], loc="lower left", fontsize=8)
    bottom.semilogy(s, np.abs(data["lag"] - data["hippo"]) + 1e-300, color="C3", lw=1.0,
                    label="|lag - HiPPO-LegS| (discretization difference)")
    bottom.semilogy(s, np.abs(data["lag"] - data["exact"]) + 1e-300, color="C0", lw=1.0,
                    label="|lag - exact projection (mpmath)|")
    bottom.semilogy(s, np.abs(data["u"] - data["exact"]) + 1e-300, color="0.6", lw=0.8,
                    label=f"|u - exact projection| (what N = {data['N']} states cannot hold)")
    bottom.set_xlabel("s (time); the present is T = %g" % data["T"])
    bottom.set_ylabel("pointwise difference")
    bottom.set_ylim(1e-17, 10)
    bottom.legend(loc="lower left", fontsize=7, ncol=1)
    return _save(fig, path)


def figure_multires(data: dict, path) -> Path:
    """``data``: ``lags``, ``u`` (true history at those lags), ``members``: list of (label, estimate),
    ``single``: (label, estimate), ``windows`` and ``window_rms``: list of (label, RMS per window, dashed)."""
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.6), constrained_layout=True, sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    lags = data["lags"]
    top.plot(lags, data["u"], color="0.35", lw=1.0, label="true history u(t - lag)")
    colors = {}
    for label, est in data["members"]:
        line, = top.plot(lags, est, lw=1.4, label=label)
        colors[label] = line.get_color()
    label, est = data["single"]
    top.plot(lags, est, lw=1.2, ls="--", color="k", label=label)
    top.set_xscale("log")
    top.set_ylabel("u(t - lag) and its estimates")
    top.set_title(data["title"], fontsize=9)
    top.legend(loc="lower left", fontsize=7, ncol=2)
    windows = data["windows"]
    left = [max(lo, float(lags[0])) for lo, _ in windows]
    edges = left + [windows[-1][1]]
    grays = iter(("k", "0.25", "0.45", "0.6", "0.75", "0.85", "0.9"))
    for label, rms, dashed in data["window_rms"]:
        color = colors.get(label) or next(grays)
        bottom.stairs(rms, edges, baseline=None, color=color, lw=1.6 if not dashed else 1.2, ls="--" if dashed else "-", label=label)
    bottom.set_yscale("log")
    bottom.set_xlabel("lag (time before the present, log scale)")
    bottom.set_ylabel("RMS error over the lag window")
    bottom.legend(loc="upper left", fontsize=7, ncol=2)
    return _save(fig, path)
