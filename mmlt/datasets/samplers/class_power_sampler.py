"""Class-aware samplers for long-tailed data (Kang et al., ICLR 2020, Sec. 3 and Eq. 1).

A class j with n_j training images is drawn with probability

    p_j = n_j^q / sum_i n_i^q                                            (Kang et al., Eq. 1)

and then an image uniformly within the class: instance-balanced q = 1, square-root q = 1/2,
class-balanced q = 0. The progressively-balanced sampler mixes the first and last over T epochs:

    p_j(t) = (1 - t/T) p_j^IB + (t/T) p_j^CB                             (Kang et al., Eq. 2)

:class:`ClassBalancedSampler` also offers Kang et al.'s own class-aware sampling
(``class_aware=True``, registered as :class:`ClassAwareSampler`): classes are visited in shuffled
rounds, each visit takes ``num_samples_cls`` consecutive images of the class from its own
shuffle-per-pass cycle, and an epoch holds max_j n_j x C samples.

All samplers draw ONE global index list per epoch from a ``torch.Generator`` seeded with
``seed + epoch`` (identical on every rank), pad it to a multiple of the world size and give rank r
the global positions r, r + W, r + 2W, ... (like :class:`mmengine.dataset.DefaultSampler`). They can
skip the first n global samples of an epoch once, so that a run resumed mid-epoch sees exactly the
indices an uninterrupted run would still see (see :class:`mmlt.engine.hooks.SamplerStateHook`).
"""
import math
from functools import partial
from typing import Dict, Iterator, Optional, Sized, Union

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import Sampler

from .sample_seed import SeededIndex, sample_seeds


def dataset_labels(dataset: Sized) -> np.ndarray:
    """Return the ground-truth label of every item of ``dataset`` as an int64 array.

    Uses ``dataset.get_gt_labels()`` and falls back to ``dataset.get_cat_ids(i)[0]``.

    Raises:
        TypeError: if the dataset offers neither method.
        ValueError: if a label is negative or not an integer.
    """
    if hasattr(dataset, 'get_gt_labels'):
        labels = np.asarray(dataset.get_gt_labels())
    elif hasattr(dataset, 'get_cat_ids'):
        labels = np.asarray(
            [dataset.get_cat_ids(i)[0] for i in range(len(dataset))])
    else:
        raise TypeError(
            f'{type(dataset).__name__} has neither get_gt_labels() nor '
            'get_cat_ids(idx); class-aware samplers need the labels')
    labels = labels.reshape(-1)
    if len(labels) != len(dataset):
        raise ValueError(
            f'{type(dataset).__name__}.get_gt_labels() returned {len(labels)} '
            f'labels for {len(dataset)} items')
    if labels.size and (not np.issubdtype(labels.dtype, np.integer)
                        or labels.min() < 0):
        raise ValueError(
            f'{type(dataset).__name__}: labels must be non-negative integers, '
            f'got dtype {labels.dtype} and minimum {labels.min()}')
    return labels.astype(np.int64)


@DATA_SAMPLERS.register_module()
class ClassPowerSampler(Sampler):
    """Draw class j with p_j proportional to n_j^q, then an image uniformly within it.

    Implements Eq. 1 of Kang et al., "Decoupling Representation and Classifier for Long-Tailed
    Recognition" (ICLR 2020). Classes without images get probability 0 for every q. For ``q == 1``
    the epoch is an exact random permutation of the dataset (every image once, like
    :class:`mmengine.dataset.DefaultSampler`) instead of i.i.d. draws with the same distribution.

    DDP: one global draw per epoch from a generator seeded with ``seed + epoch``; rank r takes the
    global positions r, r + W, ... of the list padded (``round_up``) to a multiple of W.

    Args:
        dataset (Sized): The dataset; labels come from ``get_gt_labels()``
            (or ``get_cat_ids(idx)[0]``).
        q (float): The class-frequency exponent (1 instance-, 0.5 square-root-,
            0 class-balanced). Defaults to 1.0.
        num_samples (int | str, optional): Global number of samples per epoch,
            or a rule: ``'dataset'`` (``len(dataset)``, the default) or
            ``'max_count_x_classes'`` (max_j n_j x the number of non-empty
            classes, the epoch of Kang et al.'s class-aware sampler).
        shuffle (bool): Only for ``q == 1``: False yields the dataset in order.
            Re-balanced sampling (``q != 1``) is random by nature and rejects
            False. Defaults to True.
        seed (int, optional): Seed shared by all ranks. Defaults to
            :func:`mmengine.dist.sync_random_seed`.
        round_up (bool): Pad the epoch to a multiple of the world size so every
            rank gets the same count, as in ``DefaultSampler``. Defaults to True.
        seed_samples (bool): Yield :class:`SeededIndex` indices whose seed is a function of
            (seed, epoch, global position) only; the dataset seeds its pipeline with it, so a
            sample is augmented the same way with or without dataloader workers, with any
            world size, and after a mid-epoch resume. Defaults to True.
    """

    def __init__(self,
                 dataset: Sized,
                 q: float = 1.0,
                 num_samples: Union[int, str, None] = None,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True,
                 seed_samples: bool = True) -> None:
        self.rank, self.world_size = get_dist_info()
        self.seed_samples = bool(seed_samples)
        self.dataset = dataset
        self.q = float(q)
        if not shuffle and not self._exact_permutation:
            raise ValueError(
                f'{type(self).__name__}: shuffle=False is only meaningful for '
                f'instance-balanced sampling (q=1), got q={self.q}')
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.epoch = 0
        self.round_up = round_up

        labels = torch.from_numpy(dataset_labels(dataset))
        if len(labels) == 0:
            raise ValueError(f'{type(self).__name__}: the dataset is empty')
        self.class_counts = torch.bincount(labels)
        # images grouped by class: class c owns order[starts[c]:starts[c] + counts[c]]
        self._order = torch.argsort(labels, stable=True)
        self._starts = torch.cumsum(self.class_counts, 0) - self.class_counts

        self.epoch_size = self._resolve_epoch_size(num_samples)
        if self.round_up:
            self.num_samples = math.ceil(self.epoch_size / self.world_size)
            self.total_size = self.num_samples * self.world_size
        else:
            self.num_samples = math.ceil(
                (self.epoch_size - self.rank) / self.world_size)
            self.total_size = self.epoch_size
        self._skip = 0
        self._skip_epoch: Optional[int] = None

    EPOCH_SIZE_RULES = ('dataset', 'max_count_x_classes')

    def _resolve_epoch_size(self, num_samples: Union[int, str, None]) -> int:
        """Global samples per epoch from ``num_samples`` (an int or one of ``EPOCH_SIZE_RULES``)."""
        if num_samples is None or num_samples == 'dataset':
            return len(self.dataset)
        if num_samples == 'max_count_x_classes':
            return int(self.class_counts.max()) * int((self.class_counts > 0).sum())
        if isinstance(num_samples, str) or int(num_samples) != num_samples:
            raise ValueError(
                f'{type(self).__name__}: num_samples must be a positive int or one of '
                f'{self.EPOCH_SIZE_RULES}, got {num_samples!r}')
        if num_samples <= 0:
            raise ValueError(f'{type(self).__name__}: num_samples must be '
                             f'positive, got {num_samples}')
        return int(num_samples)

    @property
    def _exact_permutation(self) -> bool:
        """Whether an epoch is a permutation rather than i.i.d. draws."""
        return self.q == 1.0

    def class_probabilities(self) -> torch.Tensor:
        """p_j = n_j^q / sum_i n_i^q (Eq. 1), 0 for empty classes; float64, sums to 1."""
        counts = self.class_counts.double()
        weights = torch.where(counts > 0, counts.pow(self.q),
                              torch.zeros_like(counts))
        return weights / weights.sum()

    def _draw(self, generator: torch.Generator) -> torch.Tensor:
        """The epoch's global index list (length ``epoch_size``)."""
        n = len(self._order)
        if self._exact_permutation:
            reps = math.ceil(self.epoch_size / n)
            if self.shuffle:
                perms = [torch.randperm(n, generator=generator)
                         for _ in range(reps)]
            else:
                perms = [torch.arange(n)] * reps
            return torch.cat(perms)[:self.epoch_size]
        classes = torch.multinomial(
            self.class_probabilities().float(),
            self.epoch_size,
            replacement=True,
            generator=generator)
        counts = self.class_counts[classes]
        offsets = (torch.rand(self.epoch_size, generator=generator, dtype=torch.float64)
                   * counts).long().clamp_(max=counts - 1)
        return self._order[self._starts[classes] + offsets]

    def global_indices(self) -> torch.Tensor:
        """All ranks' indices of the current epoch, padded to ``total_size``."""
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        indices = self._draw(g)
        if self.total_size > len(indices):
            reps = math.ceil(self.total_size / len(indices))
            indices = indices.repeat(reps)
        return indices[:self.total_size]

    def __iter__(self) -> Iterator[int]:
        """Yield this rank's share of the epoch, minus a pending one-time skip.

        With ``seed_samples`` each index is a :class:`SeededIndex` carrying the seed of its
        sample, a function of (seed, epoch, global position) only.
        """
        indices = self.global_indices()
        positions = torch.arange(self.rank, self.total_size, self.world_size)
        if self._skip and self._skip_epoch == self.epoch:
            positions = positions[positions >= self._skip]
        self._skip, self._skip_epoch = 0, None
        chosen = indices[positions].tolist()
        if not self.seed_samples:
            return iter(chosen)
        seeds = sample_seeds(self.seed, self.epoch, positions.numpy()).tolist()
        return iter([SeededIndex(i, s) for i, s in zip(chosen, seeds)])

    def __len__(self) -> int:
        """The number of samples of this rank in a full epoch."""
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch; the draw of epoch e uses the seed ``seed + e``."""
        self.epoch = epoch

    def skip_once(self, num_samples: int) -> None:
        """Skip the first ``num_samples`` global samples of the current epoch, once.

        The next iteration over the current epoch then yields, on every rank,
        exactly the indices an uninterrupted epoch would yield after its first
        ``num_samples`` global samples (all ranks together). The skip is
        dropped after that iteration or if the epoch changes.
        """
        if not 0 <= num_samples <= self.total_size:
            raise ValueError(
                f'{type(self).__name__}.skip_once: num_samples={num_samples} '
                f'outside [0, {self.total_size}]')
        self._skip, self._skip_epoch = int(num_samples), self.epoch

    def state_dict(self, consumed_samples: int = 0) -> Dict[str, int]:
        """The state needed to resume the current epoch.

        Args:
            consumed_samples (int): Global samples (all ranks) of the current
                epoch already trained on (clipped to the padded epoch size). The
                sampler cannot count them itself because dataloader workers
                prefetch; the caller knows them.

        Returns:
            dict: ``epoch``, ``seed``, ``consumed_samples`` and ``epoch_size``.
        """
        return dict(
            epoch=int(self.epoch),
            seed=int(self.seed),
            consumed_samples=min(int(consumed_samples), self.total_size),
            epoch_size=int(self.epoch_size))

    def load_state_dict(self, state: Dict[str, int]) -> None:
        """Restore epoch and seed and skip the consumed samples once.

        Raises:
            ValueError: if the checkpoint's epoch size differs from this
                sampler's (another dataset or ``num_samples``): the remaining
                indices would not be those of the interrupted run.
        """
        if state.get('epoch_size', self.epoch_size) != self.epoch_size:
            raise ValueError(
                f'{type(self).__name__}.load_state_dict: the checkpoint has '
                f"epoch_size={state['epoch_size']} but this sampler draws "
                f'{self.epoch_size} samples per epoch')
        self.seed = int(state['seed'])
        self.set_epoch(int(state['epoch']))
        self.skip_once(min(int(state.get('consumed_samples', 0)),
                           self.total_size))


@DATA_SAMPLERS.register_module()
class InstanceBalancedSampler(ClassPowerSampler):
    """:class:`ClassPowerSampler` with q = 1: every image once per epoch."""

    def __init__(self, dataset: Sized, **kwargs) -> None:
        super().__init__(dataset, q=1.0, **kwargs)


@DATA_SAMPLERS.register_module()
class SquareRootSampler(ClassPowerSampler):
    """:class:`ClassPowerSampler` with q = 1/2 (square-root sampling)."""

    def __init__(self, dataset: Sized, **kwargs) -> None:
        super().__init__(dataset, q=0.5, **kwargs)


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(ClassPowerSampler):
    """:class:`ClassPowerSampler` with q = 0: every non-empty class equally likely.

    Two ways to draw the epoch:

    - ``class_aware=False`` (default): i.i.d. draws, a uniformly random class then a uniformly
      random image of it; an epoch is ``len(dataset)`` samples.
    - ``class_aware=True``: the class-aware sampling of Kang et al.'s code
      (``data/ClassAwareSampler.py``): classes are visited in rounds, each round a random
      permutation of the non-empty classes; a visit takes the next ``num_samples_cls`` images
      of the class's own stream, a concatenation of random permutations of its images (every
      image once before any repeats, reshuffled each pass). The epoch defaults to
      max_j n_j x C samples (``num_samples='max_count_x_classes'``, C = non-empty classes), so
      with ``num_samples_cls`` dividing max_j n_j every class gets exactly max_j n_j samples
      per epoch and an epoch has as many steps as Kang et al.'s (ImageNet-LT: 1280 x 1000 =
      1,280,000 samples instead of 115,846).

    The draw is a pure function of ``(seed, epoch)``, so DDP sharding, ``set_epoch``
    determinism and mid-epoch resume (``state_dict`` / ``load_state_dict``) are those of
    :class:`ClassPowerSampler`. The one difference from the reference: the class rounds and
    the per-class passes restart with every epoch, where the reference keeps its iterators
    running across epochs. With ``num_samples_cls`` dividing max_j n_j an epoch is a whole
    number of rounds, so this only moves where a class's last, partial pass is cut (at the
    epoch end instead of being continued by the next epoch). Rank r takes the global
    positions r, r + W, ...; the runs of ``num_samples_cls`` same-class samples are runs of
    the GLOBAL order, so a global batch (all ranks' batches of one step) is the contiguous
    stretch a single-process run would use, as in the reference.

    Args:
        dataset (Sized): The dataset.
        class_aware (bool): Kang et al.'s per-class cycling instead of i.i.d.
            draws. Defaults to False.
        num_samples_cls (int): Consecutive samples per class visit (only with
            ``class_aware``; Kang et al. use 4). Defaults to 1.
        num_samples (int | str, optional): See :class:`ClassPowerSampler`.
            Defaults to ``'max_count_x_classes'`` with ``class_aware``, else
            ``'dataset'``.
        **kwargs: ``shuffle``, ``seed``, ``round_up`` of :class:`ClassPowerSampler`.
    """

    def __init__(self,
                 dataset: Sized,
                 class_aware: bool = False,
                 num_samples_cls: int = 1,
                 num_samples: Union[int, str, None] = None,
                 **kwargs) -> None:
        if int(num_samples_cls) != num_samples_cls or num_samples_cls < 1:
            raise ValueError(f'{type(self).__name__}: num_samples_cls must be an int >= 1, '
                             f'got {num_samples_cls!r}')
        if num_samples_cls != 1 and not class_aware:
            raise ValueError(f'{type(self).__name__}: num_samples_cls={num_samples_cls} '
                             'needs class_aware=True (i.i.d. draws have no class visits)')
        self.class_aware = bool(class_aware)
        self.num_samples_cls = int(num_samples_cls)
        if num_samples is None:
            num_samples = 'max_count_x_classes' if self.class_aware else 'dataset'
        super().__init__(dataset, q=0.0, num_samples=num_samples, **kwargs)

    def _draw(self, generator: torch.Generator) -> torch.Tensor:
        if not self.class_aware:
            return super()._draw(generator)
        return self._draw_class_aware(generator)

    def _draw_class_aware(self, generator: torch.Generator) -> torch.Tensor:
        """The epoch's global index list by per-class cycling.

        Vectorised (no Python loop over classes or passes; gathers by ``index_select``), so an
        iNaturalist 2018 epoch (8142 classes x 1000 samples) is drawn in a few seconds.
        """
        take = partial(torch.index_select, dim=0)
        size, k = self.epoch_size, self.num_samples_cls
        counts = self.class_counts
        present = torch.nonzero(counts > 0).flatten()
        num_present = len(present)
        # class visits: rounds of random permutations of the non-empty classes
        visits = math.ceil(size / k)
        rounds = math.ceil(visits / num_present)
        round_of_slot = torch.arange(rounds * num_present) // num_present
        visited = take(present, index=self._shuffle_groups(round_of_slot, generator)
                       % num_present)[:visits]
        # sample i belongs to visit i // k; every class is visited once per round, so sample i is
        # number (round * k + i % k) of its class's stream in this epoch
        sample = torch.arange(size)
        visit = sample // k
        classes = take(visited, index=visit)
        position = (visit // num_present) * k + sample % k
        # the streams: class c needs ceil(m_c / n_c) passes over its n_c images, each pass a
        # random permutation; all passes of all classes are laid out as consecutive slots
        per_class = torch.bincount(classes, minlength=len(counts))
        sizes = counts.clamp(min=1)  # empty classes: no samples, 0 passes
        passes = (per_class + sizes - 1) // sizes
        slots = passes * counts
        slot_first = torch.cumsum(slots, 0) - slots
        num_slots = int(slots.sum())
        slot_size = torch.repeat_interleave(counts, slots, output_size=num_slots)
        within = torch.arange(num_slots) - torch.repeat_interleave(
            slot_first, slots, output_size=num_slots)
        slot_pass = torch.repeat_interleave(
            torch.cumsum(passes, 0) - passes, slots, output_size=num_slots) + within // slot_size
        image_in_class = take(within % slot_size,
                              index=self._shuffle_groups(slot_pass, generator))
        image = take(image_in_class, index=take(slot_first, index=classes) + position)
        return take(self._order, index=take(self._starts, index=classes) + image)

    @staticmethod
    def _shuffle_groups(group: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A permutation of ``range(len(group))`` that shuffles within runs of equal ``group``.

        ``group`` must be non-decreasing (each value a run of consecutive positions). A random
        permutation of all positions, stably regrouped by group, leaves every run's positions in
        a uniformly random order, independently of the other runs.
        """
        perm = torch.randperm(len(group), generator=generator)
        return torch.index_select(
            perm, 0, torch.argsort(torch.index_select(group, 0, perm), stable=True))


@DATA_SAMPLERS.register_module()
class ClassAwareSampler(ClassBalancedSampler):
    """Kang et al.'s class-aware sampler: :class:`ClassBalancedSampler` with ``class_aware=True``.

    Args:
        dataset (Sized): The dataset.
        num_samples_cls (int): Consecutive samples per class visit. Defaults to 1.
        **kwargs: ``num_samples`` (default ``'max_count_x_classes'``), ``shuffle``, ``seed``,
            ``round_up``.
    """

    def __init__(self, dataset: Sized, num_samples_cls: int = 1, **kwargs) -> None:
        super().__init__(dataset, class_aware=True, num_samples_cls=num_samples_cls, **kwargs)


@DATA_SAMPLERS.register_module()
class ProgressiveBalancedSampler(ClassPowerSampler):
    """Progressively-balanced sampling (Kang et al., ICLR 2020, Eq. 2).

    At epoch t (set by ``set_epoch``), p_j(t) = (1 - t/T) p_j^IB + (t/T) p_j^CB with
    p^IB = n_j / N, p^CB = 1 / C over the non-empty classes and t/T clipped to [0, 1].
    Every epoch is i.i.d. draws, also at t = 0.

    Args:
        dataset (Sized): The dataset.
        total_epochs (int): T, the epoch from which sampling is class-balanced.
        num_samples (int, optional): Global samples per epoch. Defaults to
            ``len(dataset)``.
        shuffle (bool): Must be True (sampling is random by nature); accepted
            so that configs written for ``DefaultSampler`` keep working.
        seed (int, optional): Seed shared by all ranks.
        round_up (bool): Pad to a multiple of the world size. Defaults to True.
        seed_samples (bool): See :class:`ClassPowerSampler`. Defaults to True.
    """

    def __init__(self,
                 dataset: Sized,
                 total_epochs: int,
                 num_samples: Optional[int] = None,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True,
                 seed_samples: bool = True) -> None:
        if total_epochs <= 0:
            raise ValueError('ProgressiveBalancedSampler: total_epochs must '
                             f'be positive, got {total_epochs}')
        self.total_epochs = int(total_epochs)
        super().__init__(
            dataset,
            q=1.0,
            num_samples=num_samples,
            shuffle=shuffle,
            seed=seed,
            round_up=round_up,
            seed_samples=seed_samples)

    @property
    def _exact_permutation(self) -> bool:
        return False

    def class_probabilities(self) -> torch.Tensor:
        """p_j(t) of Eq. 2 at t = ``self.epoch``; float64, sums to 1."""
        counts = self.class_counts.double()
        p_ib = counts / counts.sum()
        p_cb = (counts > 0).double()
        p_cb = p_cb / p_cb.sum()
        ratio = min(max(self.epoch / self.total_epochs, 0.0), 1.0)
        return (1.0 - ratio) * p_ib + ratio * p_cb
