"""Markdown for ``results.md``: every number comes from the run's data structures, none is typed in."""

from __future__ import annotations

import math

from .discretization_table import LAG, METHOD_TITLES, summary


def number(x: float, digits: int = 1) -> str:
    """``1.2e-05`` style; ``inf``/``nan`` spelled out."""
    if x is None:
        return "-"
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf"
    return f"{x:.{digits}e}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def discretization_tables(rows, methods) -> str:
    """Two tables: the largest state deviation, and the relative omega-weighted reconstruction error."""
    titles = [METHOD_TITLES[m] for m in methods]
    dev = [[r.signal, r.delta, r.horizon, str(r.steps)] + [number(r.deviation[m], 2) for m in methods] for r in rows]
    rec = [[r.signal, r.delta, r.horizon, number(r.floor, 3)] + [number(r.reconstruction[m], 3) for m in methods]
           for r in rows]
    return ("Largest state deviation from the exact projection, `max_n |c_n - c_ref,n|`:\n\n"
            + table(["input", "Delta", "T", "steps"] + titles, dev)
            + "\nRelative omega-weighted reconstruction error `||u - u_hat||_omega / ||u||_omega` "
              "(floor: the exact projection's own error, the best any N-state memory can do):\n\n"
            + table(["input", "Delta", "T", "floor"] + titles, rec))


def ratio_by_delta(rows, methods) -> str:
    """Per step ``Delta``: each method's deviation over the lag recurrence's (geometric mean, both clipped below
    at 1e-15; cases where the method is finite), and in how many cases the method is closer."""
    deltas = list(dict.fromkeys(r.delta for r in rows))
    others = [m for m in methods if m != LAG]
    body = []
    for d in deltas:
        subset = [r for r in rows if r.delta == d]
        s = summary(subset, methods)
        body.append([d] + [f"{s[m]['ratio_to_lag']:.3g}x ({s[m]['beats_lag']}/{s[m]['cases']})"
                           if s[m]["ratio_cases"] else "diverged" for m in others])
    return ("Deviation over the lag recurrence's, by step (geometric mean; in brackets: cases where the rule is "
            "closer than the lag recurrence):\n\n" + table(["Delta"] + [METHOD_TITLES[m] for m in others], body))


def summary_table(rows, methods) -> tuple[str, dict]:
    s = summary(rows, methods)
    body = []
    for m in methods:
        item = s[m]
        ratio = "1 (reference)" if m == LAG else (
            f"{item['ratio_to_lag']:.3g}x over {item['ratio_cases']} cases" if item["ratio_cases"] else "-")
        body.append([METHOD_TITLES[m], number(item["max"]), number(item["median"]), ratio,
                     "-" if m == LAG else f"{item['beats_lag']} of {item['cases']}", str(item["diverged"])])
    text = table(["method", "largest deviation", "median deviation",
                  "deviation / lag's (geometric mean)", "closer than lag", "diverged (> 1e3)"], body)
    return text, s


EXACT = 1e-10      # largest deviation below this: exact up to float64 rounding (accumulated over <= 1e5 steps)


def verdict_sentence(label: str, s: dict, methods) -> str:
    """One sentence naming the most faithful method and by how much, from the summary numbers."""
    lag = s[LAG]
    exact = [m for m in methods if m != LAG and s[m]["max"] < EXACT]
    others = [m for m in methods if m != LAG and m not in exact and s[m]["ratio_cases"]]
    if lag["max"] < EXACT:
        text = f"{label}: the lag recurrence is exact up to float64 rounding (largest deviation {number(lag['max'])})"
        if exact:
            text += ", and so is " + ", ".join(f"{METHOD_TITLES[m]} ({number(s[m]['max'])})" for m in exact)
            text += ": the same recurrence up to rounding"
        if others:
            best = min(others, key=lambda m: s[m]["ratio_to_lag"])
            text += (f"; the closest other rule, {METHOD_TITLES[best]}, deviates up to {number(s[best]['max'])} "
                     f"(median {number(s[best]['median'])}), {s[best]['ratio_to_lag']:.3g}x the lag recurrence's "
                     f"deviation (geometric mean over {s[best]['ratio_cases']} cases, deviations below 1e-15 "
                     "counted as 1e-15)")
        return text + "."
    if not others and not exact:
        return f"{label}: no method other than the lag recurrence stayed finite."
    if exact:
        return (f"{label}: " + ", ".join(METHOD_TITLES[m] for m in exact) + " is exact up to rounding (largest "
                f"deviation {number(min(s[m]['max'] for m in exact))}), the lag recurrence is not (largest "
                f"{number(lag['max'])}).")
    best = min(others, key=lambda m: s[m]["ratio_to_lag"])
    r = s[best]["ratio_to_lag"]
    if 0.8 <= r <= 1.25:
        return (f"{label}: the lag recurrence and {METHOD_TITLES[best]} are about equally faithful, and neither is "
                f"exact: {METHOD_TITLES[best]}'s deviation is {r:.3g}x the lag recurrence's (geometric mean over "
                f"{s[best]['ratio_cases']} cases), it is closer in {s[best]['beats_lag']} of {s[best]['cases']} "
                f"cases, and the largest deviations are {number(s[best]['max'])} and {number(lag['max'])} (medians "
                f"{number(s[best]['median'])} and {number(lag['median'])}); every other rule is further off.")
    if r >= 1:
        return (f"{label}: the lag recurrence is the most faithful (largest deviation {number(lag['max'])}, median "
                f"{number(lag['median'])}); the closest ODE rule, {METHOD_TITLES[best]}, deviates {r:.3g}x as much "
                f"(geometric mean over {s[best]['ratio_cases']} cases; median {number(s[best]['median'])}; closer "
                f"than the lag recurrence in {s[best]['beats_lag']} of {s[best]['cases']}).")
    return (f"{label}: {METHOD_TITLES[best]} is closer than the lag recurrence on average: its deviation is "
            f"{r:.3g}x the lag recurrence's (geometric mean over {s[best]['ratio_cases']} cases; closer in "
            f"{s[best]['beats_lag']} of {s[best]['cases']}; largest deviations {number(s[best]['max'])} against "
            f"{number(lag['max'])}).")
