"""Checked claims: a notebook's conclusion, tested by the run that produced its numbers.

A notebook makes one :class:`Claims` in its set-up cell and calls it right where it draws a
conclusion from a run::

    claim = Claims(strict=not FAST)
    claim("He keeps tanh's forward variance closer to 1 than Xavier",
          abs(he - 1) < abs(xavier - 1), He=he, Xavier=xavier)

which prints one line, a mark, the sentence and the numbers it rests on::

    ✓ He keeps tanh's forward variance closer to 1 than Xavier (He 0.972, Xavier 0.893)

In a full run (``strict=True``) a claim that does not hold raises :class:`ClaimFailed`, so
``cnnbook book run`` fails and names the notebook, the cell and the claim. In fast mode
(tiny data, one epoch) the numbers mean little, so a failed claim only prints.

Each claim is also written into the notebook as a machine-readable output (:data:`MIME`),
which is how ``cnnbook book claims`` lists the claims of the committed notebooks.
"""

from __future__ import annotations

import json
import numbers as _numbers
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["MIME", "Claim", "ClaimFailed", "Claims", "read_claims"]

#: The output type that carries a claim inside a notebook.
MIME = "application/vnd.cnnbook.claim+json"
HELD, FAILED = "✓", "✗"


class ClaimFailed(AssertionError):
    """A claim did not hold in a full run; the message is the claim's line."""


def _format(value) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, _numbers.Integral):
        return f"{int(value):,}" if abs(int(value)) >= 10_000 else str(int(value))
    if isinstance(value, _numbers.Real):
        return f"{float(value):.4g}"
    return str(value)


def _plain(value):
    """A JSON-friendly copy of a number (NumPy and torch scalars become Python ones)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, _numbers.Integral):
        return int(value)
    if isinstance(value, _numbers.Real):
        return float(value)
    item = getattr(value, "item", None)  # a one-element array or tensor
    if callable(item):
        return _plain(item())
    return str(value)


@dataclass(frozen=True)
class Claim:
    """One claim: its sentence, whether it held, and the numbers it rests on."""

    text: str
    held: bool
    numbers: dict = field(default_factory=dict)
    strict: bool = True
    ko: str | None = None

    def line(self) -> str:
        numbers = ", ".join(f"{name} {_format(value)}" for name, value in self.numbers.items())
        line = f"{HELD if self.held else FAILED} {self.text}"
        if numbers:
            line += f" ({numbers})"
        if not self.held and not self.strict:
            line += " [fast mode: not enforced]"
        if self.ko:
            line += f"\n  {self.ko}"
        return line

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data) -> Claim:
        return cls(**{k: data[k] for k in ("text", "held", "numbers", "strict", "ko") if k in data})


class Claims:
    """Make claims in one notebook; ``strict`` (the full run) makes a failed claim an error.

    Call it as ``claim(text, held, **numbers)``: ``held`` is the condition the numbers must
    meet (a bool); each keyword is a number the claim rests on, printed as ``name value``
    (an underscore in a name prints as a space; pass ``numbers={"held-out": 0.97}`` for
    names that are not identifiers). ``ko`` gives the sentence in Korean, printed on a second
    line. Returns nothing (so a claim that ends a cell prints only its line); the claims
    made so far are in ``made``, newest last.
    """

    def __init__(self, *, strict: bool):
        if not isinstance(strict, bool):
            raise ValueError(f"strict must be True or False, got {strict!r}")
        self.strict = strict
        self.made: list[Claim] = []

    def __call__(self, text, held, numbers=None, *, ko=None, **named) -> None:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"a claim needs a sentence, got {text!r}")
        if not isinstance(held, (bool, np.bool_)):
            raise ValueError(
                f"a claim's condition must be True or False, got {type(held).__name__} {held!r} "
                "(an array? reduce it with .all() or .any())"
            )
        values = dict(numbers or {})
        values.update({name.replace("_", " "): value for name, value in named.items()})
        made = Claim(text.strip(), bool(held), {k: _plain(v) for k, v in values.items()},
                     self.strict, ko)
        self.made.append(made)
        _show(made)
        if self.strict and not made.held:
            raise ClaimFailed(made.line())


def _show(claim: Claim) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({"text/plain": claim.line(), MIME: claim.to_json()}, raw=True)
    else:
        print(claim.line())


def read_claims(path) -> list[tuple[int, Claim]]:
    """The claims recorded in an executed notebook, as ``(cell number, claim)`` pairs.

    Cell numbers count from 1, as the book runner names cells.
    """
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable notebook ({exc})") from None
    found = []
    for number, cell in enumerate(nb.get("cells", []), 1):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME in data:
                found.append((number, Claim.from_json(data[MIME])))
    return found
