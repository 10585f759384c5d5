"""Does a constructor mirror torch's? The rule every cnnbook.numpy layer follows."""

from __future__ import annotations

import inspect

__all__ = ["signature_mismatches"]


def signature_mismatches(ours, theirs):
    """How the constructor of ``ours`` fails to mirror that of ``theirs`` (empty if it does).

    A call written for ``theirs`` must mean the same with ``ours`` or fail loudly: the
    positional parameters are a prefix of theirs, shared names have their defaults,
    and everything else (extras such as ``generator``, and names that come after one
    that ``ours`` leaves out, such as ``dtype`` after torch's ``device``) is keyword-only.
    """
    mine = inspect.signature(ours).parameters
    other = inspect.signature(theirs).parameters

    def positional(params):
        return [p.name for p in params.values() if p.kind is p.POSITIONAL_OR_KEYWORD]

    problems = []
    if positional(mine) != positional(other)[: len(positional(mine))]:
        problems.append(f"positional {positional(mine)} is not a prefix of {positional(other)}")
    for p in mine.values():
        if p.kind is p.VAR_POSITIONAL:  # Sequential(*layers)
            if [q.kind for q in other.values()] != [p.VAR_POSITIONAL]:
                problems.append(f"*{p.name} where the other takes {list(other)}")
        elif p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            problems.append(f"{p.name} is {p.kind.description}")
    for name in mine.keys() & other.keys():
        if mine[name].default != other[name].default:
            problems.append(f"{name} defaults to {mine[name].default!r}, not {other[name].default!r}")
    return problems
