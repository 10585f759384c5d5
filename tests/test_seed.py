import numpy as np
import pytest
import torch

import cnnbook.numpy as cn
from cnnbook.seed import seed_everything


def test_same_seed_same_numbers_everywhere():
    draws = []
    for _ in range(2):
        rng = seed_everything(7)
        draws.append((np.random.rand(3), torch.rand(3), cn.init.normal_(np.empty(3)), rng.random(3)))
    for a, b in zip(*draws):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_returned_generator_is_independent_of_cnnbook_numpy():
    rng = seed_everything(0)
    x = rng.standard_normal(4096)
    w = cn.init.normal_(np.empty(4096))
    assert abs(np.corrcoef(x, w)[0, 1]) < 0.1


@pytest.mark.parametrize("bad", [-1, 1.5, "0"])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        seed_everything(bad)
