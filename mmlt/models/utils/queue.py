"""A circular feature queue that starts empty and (optionally) keeps labels."""
from typing import Optional, Tuple

import torch
from mmengine.dist import all_gather
from torch import Tensor, nn


class LabeledQueue(nn.Module):
    """A first-in-first-out memory of features and their labels (MoCo queue).

    It is the memory bank of MoCo v2 and of DSCL (Xuan & Zhang, AAAI 2024,
    Sec. 3, "a memory queue of K keys with their labels"). Unlike the official
    DSCL code, which fills the queue with random features and random labels
    that act as false positives / negatives until overwritten, the queue starts
    **empty**: :meth:`valid` returns only the entries written so far.

    All state is in buffers, so it is saved in checkpoints and broadcast by
    DDP: ``feats`` (K, C), ``labels`` (K,) long (``-1`` where no label was
    given), ``ptr`` (1,) long (next write position) and ``num_filled`` (1,)
    long (number of written entries, at most K).

    :meth:`enqueue` gathers the batch from all ranks first
    (:func:`mmengine.dist.all_gather`, a no-op in a single process) and writes
    it circularly with one ``index_copy_`` whose indices are computed on the
    device, so no host synchronisation happens. A Python mirror of
    ``num_filled`` (refreshed when a state dict is loaded) lets :meth:`valid`
    slice without reading the device tensor.

    Args:
        length (int): Number of entries K.
        feat_dim (int): Feature dimension C.
    """

    def __init__(self, length: int, feat_dim: int) -> None:
        super().__init__()
        if length <= 0 or feat_dim <= 0:
            raise ValueError(f'LabeledQueue: length ({length}) and feat_dim '
                             f'({feat_dim}) must be positive')
        self.length = length
        self.feat_dim = feat_dim
        self.register_buffer('feats', torch.zeros(length, feat_dim))
        self.register_buffer('labels',
                             torch.full((length, ), -1, dtype=torch.long))
        self.register_buffer('ptr', torch.zeros(1, dtype=torch.long))
        self.register_buffer('num_filled', torch.zeros(1, dtype=torch.long))
        self._num_filled = 0  # host mirror of ``num_filled``

    @torch.no_grad()
    def enqueue(self, feats: Tensor, labels: Optional[Tensor] = None) -> None:
        """Gather ``feats`` (and ``labels``) across ranks and write them.

        Args:
            feats (Tensor): Features of this rank, shape (B, C).
            labels (Tensor, optional): Their labels, shape (B,). ``None``
                stores ``-1`` (label-free use, e.g. MoCo / CFRL stage 1a).
        """
        if feats.dim() != 2 or feats.size(1) != self.feat_dim:
            raise ValueError(f'LabeledQueue.enqueue: feats must have shape '
                             f'(B, {self.feat_dim}), got {tuple(feats.shape)}')
        if labels is None:
            labels = feats.new_full((feats.size(0), ), -1, dtype=torch.long)
        elif labels.shape != feats.shape[:1]:
            raise ValueError(f'LabeledQueue.enqueue: labels must have shape '
                             f'({feats.size(0)},), got {tuple(labels.shape)}')
        feats = torch.cat(all_gather(feats.detach()), dim=0)
        labels = torch.cat(all_gather(labels.long()), dim=0)

        num = feats.size(0)
        skip = max(num - self.length, 0)
        if skip:  # only the last K of an over-long batch survive
            feats, labels = feats[skip:], labels[skip:]
        index = (self.ptr + skip +
                 torch.arange(feats.size(0), device=self.ptr.device))
        index = index % self.length
        self.feats.index_copy_(0, index, feats.to(self.feats.dtype))
        self.labels.index_copy_(0, index, labels.to(self.labels.device))
        self.ptr.add_(num).remainder_(self.length)
        self.num_filled.add_(num).clamp_(max=self.length)
        self._num_filled = min(self._num_filled + num, self.length)

    def check_holds(self, batch_size: int, owner: str = 'queue') -> None:
        """Raise unless the queue holds a whole global batch of keys.

        MoCo-style models enqueue every step's global batch (``batch_size`` per rank times the
        world size); a queue shorter than that keeps only part of each batch and never holds
        the previous steps' keys, which is not the configured method.

        Args:
            batch_size (int): Keys per rank in one step.
            owner (str): Name for the message. Defaults to 'queue'.
        """
        from mmengine.dist import get_world_size
        total = batch_size * get_world_size()
        if total > self.length:
            raise ValueError(f'{owner}: queue_len={self.length} is smaller than the global batch '
                             f'({batch_size} x {get_world_size()} processes = {total}); set '
                             f'model.queue_len >= {total}')

    def valid(self) -> Tuple[Tensor, Tensor]:
        """The written entries only.

        Returns:
            Tuple[Tensor, Tensor]: features (N, C) and labels (N,), N <= K,
            detached **copies** (as MoCo's ``queue.clone().detach()``: the
            loss graph may keep them while :meth:`enqueue` writes in place).
            Their order is the storage order, not the age order.
        """
        num = self._num_filled
        return self.feats[:num].clone(), self.labels[:num].clone()

    def __len__(self) -> int:
        return self._num_filled

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        # one host sync at load time only
        self._num_filled = int(self.num_filled.item())

    def extra_repr(self) -> str:
        return f'length={self.length}, feat_dim={self.feat_dim}'
