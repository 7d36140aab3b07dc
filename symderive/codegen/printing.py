"""Printing values for the templates: every number and sentence a generated package holds, as Python text.

The renderers (:mod:`.render` for single packages, :mod:`.render_bank` for banks) decide every value;
these functions only write them down, so that the templates under ``templates/`` hold layout alone:

- :func:`float_literal`: a float64 as ``repr`` (which round-trips it exactly); non-finite values are refused;
- :func:`vector`, :func:`matrix`: sequences of those literals; :func:`grouped` puts a few to a line and
  :func:`matrix_lines` does so row by row (short lines, readable diffs);
- :func:`tuple_literal`, :func:`optional_float`, :func:`optional_text`: small Python literals;
- :func:`comment_text`: text made safe for a one-line comment or a docstring;
- :func:`string_literal_lines`: a long sentence as consecutive string literals, one per line.
"""

from __future__ import annotations

import math

from ..errors import InputError


def float_literal(x) -> str:
    """A float64 literal that round-trips exactly (``repr``); non-finite values are refused."""
    value = float(x)
    if not math.isfinite(value):
        raise InputError(f"cannot render a non-finite number {value!r} into a generated package")
    return repr(value)


def optional_float(x) -> str:
    """:func:`float_literal`, or ``None`` for None."""
    return "None" if x is None else float_literal(x)


def optional_text(x) -> str:
    """A string literal of ``str(x)``, or ``None`` for None."""
    return "None" if x is None else repr(str(x))


def tuple_literal(values) -> str:
    """A Python tuple literal of already printed values (``(a,)`` for one, ``()`` for none)."""
    values = list(values)
    return "(" + ", ".join(values) + ("," if len(values) == 1 else "") + ")"


def vector(values) -> list[str]:
    """Each value as a :func:`float_literal`."""
    return [float_literal(x) for x in values]


def matrix(rows) -> list[list[str]]:
    """Each row as a :func:`vector`."""
    return [vector(row) for row in rows]


def grouped(values: list[str], per_line: int = 4) -> list[str]:
    """Literals grouped ``per_line`` to a line, each line ending in a comma (short lines, readable diffs)."""
    return [", ".join(values[i:i + per_line]) + "," for i in range(0, len(values), per_line)]


def matrix_lines(rows) -> list[list[str]]:
    """Each row of ``rows`` as :func:`grouped` float literals."""
    return [grouped(vector(row)) for row in rows]


def comment_text(text: str) -> str:
    """``text`` made safe for a one-line comment and a docstring: printable ASCII, no backslash or quote."""
    out = []
    for ch in str(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append("'")
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


def string_literal_lines(text: str, width: int = 90) -> list[str]:
    """``text`` as consecutive Python string literals (``repr`` of pieces split after spaces), one per line."""
    pieces, current = [], ""
    for word in str(text).split(" "):
        if current and len(current) + len(word) + 1 > width:
            pieces.append(current + " ")
            current = word
        else:
            current = f"{current} {word}" if current else word
    pieces.append(current)
    return [repr(piece) for piece in pieces]
