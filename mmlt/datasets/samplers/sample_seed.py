"""Per-sample random seeds: augmentations that depend on (seed, epoch, position) only."""
import contextlib
import random

import numpy as np
import torch

_M64 = (1 << 64) - 1


def sample_seeds(seed: int, epoch: int, positions: np.ndarray) -> np.ndarray:
    """A 63-bit seed per position of an epoch (splitmix64 of seed, epoch and position).

    Args:
        seed (int): The sampler's seed.
        epoch (int): The epoch.
        positions (np.ndarray): Global positions in the epoch.

    Returns:
        np.ndarray: uint64 seeds below 2**63, one per position.
    """
    with np.errstate(over='ignore'):
        x = (np.uint64((seed * 0x9E3779B97F4A7C15 + epoch * 0xBF58476D1CE4E5B9) & _M64)
             + positions.astype(np.uint64) * np.uint64(0x94D049BB133111EB))
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return x >> np.uint64(1)


class SeededIndex(int):
    """A dataset index that carries the random seed of its sample (``sample_seed``).

    Samplers yield it instead of an ``int``; it passes through the DataLoader (to worker
    processes too) and :meth:`mmlt.datasets.LTDatasetMixin.prepare_data` seeds the data
    pipeline's random generators with it.
    """

    def __new__(cls, index: int, sample_seed: int):
        obj = super().__new__(cls, index)
        obj.sample_seed = int(sample_seed)
        return obj

    def __reduce__(self):
        return SeededIndex, (int(self), self.sample_seed)

    def __repr__(self) -> str:
        return f'SeededIndex({int(self)}, seed={self.sample_seed})'


@contextlib.contextmanager
def seeded_sample(sample_seed: int):
    """Seed Python's, numpy's and torch's generators for one sample's pipeline.

    In a dataloader worker the generators belong to the loader and are simply re-seeded. In the
    main process (``num_workers=0``) their states are restored afterwards, so the training loop's
    own random stream (model, batched augmentation) is the same as without per-sample seeds, and
    a sample is augmented identically with and without worker processes.
    """
    in_worker = torch.utils.data.get_worker_info() is not None
    saved = None if in_worker else (random.getstate(), np.random.get_state(),
                                    torch.get_rng_state())
    random.seed(sample_seed)
    np.random.seed(sample_seed % (1 << 32))
    torch.manual_seed(sample_seed)
    try:
        yield
    finally:
        if saved is not None:
            random.setstate(saved[0])
            np.random.set_state(saved[1])
            torch.set_rng_state(saved[2])
