"""Shared test settings.

The unit tests work on small tensors, where torch's intra-op threads cost more in
synchronization than they gain (and on a busy 2-core machine they can make a test many
times slower); one thread also makes timings of the suite steadier.

Hypothesis runs derandomized by default: every run draws the same examples (seeded from
each test's own code), with no example database and no deadline, so a red CI run fails
the same way on any machine. To explore with fresh random examples, choose the other
profile: ``HYPOTHESIS_PROFILE=explore pytest tests/...`` (or ``--hypothesis-profile
explore``); it keeps a local database under ``.hypothesis/`` so that a failure it finds
replays on the next run, and prints the ``@reproduce_failure`` line to pin it down.
"""

import os

import torch
from hypothesis import settings

torch.set_num_threads(1)

settings.register_profile("derandomized", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "derandomized"))
