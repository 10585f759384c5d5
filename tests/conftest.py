"""Shared test settings.

The unit tests work on small tensors, where torch's intra-op threads cost more in
synchronization than they gain (and on a busy 2-core machine they can make a test many
times slower); one thread also makes timings of the suite steadier.
"""

import torch

torch.set_num_threads(1)
