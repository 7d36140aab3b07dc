"""Exception types raised by symderive.

Every error caused by bad user input is an :class:`InputError` (a ``ValueError``): its
message names the input, the property it broke and what would be valid. The CLI turns it into
exit status 2 and one line on stderr.
"""


class InputError(ValueError):
    """Bad user input: a spec, expression, parameter or size that symderive cannot accept."""


class DerivationError(RuntimeError):
    """A derivation route could not produce the requested object (e.g. no closed form)."""
