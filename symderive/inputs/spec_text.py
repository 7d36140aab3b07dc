"""SPEC grammar texts and canonical SPEC keys, without SymPy.

The command line builds its parser and looks up its cache before it imports the engine (SymPy,
flint, numpy take most of a second to import), so what it needs for that lives here: the help texts
of the SPEC grammars and :func:`canonical`, which writes a SPEC with each expression replaced by its
Python syntax tree (``ast.parse`` builds a tree and runs nothing), so that spacing and redundant
parentheses do not change a cache key. Two SPECs with the same key parse to the same SymPy input.
"""

from __future__ import annotations

import ast
import warnings

WARP_HELP = "exponential[:rate=R], linear[:window=W], scale, or f=EXPR_IN_x[;g=INVERSE_IN_z]"
BASIS_HELP = "legendre, fourier, laguerre, or functions=EXPR1;EXPR2;... (in z)"
FAMILY_HELP = ("legs[:rate=R], legt[:window=W], lmu[:window=W], lagt[:rate=R], fout[:window=W], "
               "s4-legs, s4-legt, s4-lagt, s4-fout")


def _tree(text: str) -> str:
    try:
        with warnings.catch_warnings():    # "invalid decimal literal": the real parser's error says it
            warnings.simplefilter("ignore")
            return ast.dump(ast.parse(text.strip(), mode="eval"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "text:" + text.strip()     # the real parser will refuse it; a key only has to be distinct


def canonical(spec: str, kind: str) -> str:
    """The cache key text of a warp (``kind="warp"``) or basis (``"basis"``) SPEC."""
    spec = str(spec).strip()
    if kind == "basis" and spec.startswith("functions="):
        return "functions=" + ";".join(_tree(s) for s in spec[len("functions="):].split(";"))
    if kind == "warp" and spec.startswith("f="):
        parts = []
        for part in spec.split(";"):
            key, eq, text = part.partition("=")
            parts.append(f"{key.strip()}={_tree(text)}" if eq else part.strip())
        return ";".join(parts)
    return " ".join(spec.split())
