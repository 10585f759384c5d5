"""The generator that ``cnnbook.numpy`` draws from unless it is handed another one."""

import numpy as np

# Like torch's default generator, this one starts from a fixed seed, so a script that
# never calls ``manual_seed`` still prints the same numbers each time it runs.
_INITIAL_SEED = 0

default_generator = np.random.Generator(np.random.PCG64(_INITIAL_SEED))


def manual_seed(seed):
    """Reseed ``cnnbook.numpy``'s default generator in place and return it.

    Initializers, layers' default initialization, ``Dropout`` and ``StochasticPool2d``
    draw from this generator when they are not given a ``generator`` of their own, so
    after ``manual_seed(s)`` the same code draws the same numbers (``torch.manual_seed``
    does the same for torch). The generator object is kept and only its state changes,
    so references to ``default_generator`` stay valid.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed expected a non-negative integer, got {seed!r}")
    default_generator.bit_generator.state = np.random.PCG64(int(seed)).state
    return default_generator


def resolve_generator(generator, owner):
    """``generator`` itself, or the default generator when it is None."""
    if generator is None:
        return default_generator
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"{owner} expected generator to be a numpy.random.Generator or None, "
            f"got {type(generator).__name__}"
        )
    return generator
