"""Head of DSCL (Xuan & Zhang, AAAI 2024, "Decoupled Contrastive Learning for Long-Tailed
Recognition"): builds the contrast set and its masks and applies the DSCL loss (Eq. 8-9)."""
from typing import List, Optional, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmpretrain.registry import MODELS

CONTRAST_MODES = ('queue', 'batch_queue')


def same_label_mask(labels: Tensor, other_labels: Tensor) -> Tensor:
    """``(N, M)`` bool mask of ``labels[i] == other_labels[m]``; negative labels never match.

    A negative label marks an unlabelled entry (:class:`LabeledQueue` stores
    ``-1`` when no label is given), which must not become a positive.
    """
    return (labels[:, None] == other_labels[None, :]) & (labels[:, None] >= 0)


@MODELS.register_module()
class DSCLHead(BaseModule):
    """Decoupled supervised contrastive head (Xuan & Zhang, AAAI 2024, Eq. 8-9).

    It owns the temperature, turns the query ``z_i`` (= ``q_i``), its own key
    ``z_i^+`` (= ``k_i``) and the labelled queue into the logits
    ``[z_i . z_i^+ ; z_i . M] / tau`` plus the masks of the positives ``P_i``
    and of the denominator, and hands them to the loss (``DSCLLoss``; built
    from ``loss``, so ``alpha=None`` / ``SCLLoss`` gives SCL and ``alpha=1``
    MoCo). Contrast sets:

    - ``'queue'``: ``M`` = the queue; ``P_i`` = queue entries with the
      anchor's label.
    - ``'batch_queue'`` (official code): ``M`` = ``[q batch ; k batch ; queue]``
      without the anchor's own ``q_i``; ``k_i`` is the own positive (column 0,
      counted once in the denominator); ``P_i`` = the other same-label entries.

    In ``'batch_queue'`` mode the batch queries in ``M`` keep their gradient
    (as in the official code). Negative labels (unlabelled entries, e.g. the
    label-free queue of CFRL stage 1a) are never positives. The logits are
    computed in float32 with autocast disabled (``tau = 0.07`` makes bf16
    similarities too coarse).

    Args:
        loss (dict): Config of the loss. Defaults to ``dict(type='DSCLLoss', alpha=0.1)``.
        temperature (float): The temperature tau. Defaults to 0.07.
        contrast_mode (str): ``'queue'`` or ``'batch_queue'``. Defaults to ``'queue'``.
        init_cfg (dict or List[dict], optional): Initialization config dict.
    """

    def __init__(self,
                 loss: dict = dict(type='DSCLLoss', alpha=0.1),
                 temperature: float = 0.07,
                 contrast_mode: str = 'queue',
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if contrast_mode not in CONTRAST_MODES:
            raise ValueError(f'DSCLHead: contrast_mode must be one of {CONTRAST_MODES}, '
                             f'got {contrast_mode!r}')
        if temperature <= 0:
            raise ValueError(f'DSCLHead: temperature must be > 0, got {temperature}')
        self.loss_module = MODELS.build(loss)
        self.temperature = temperature
        self.contrast_mode = contrast_mode

    def contrast(self, q: Tensor, k: Tensor, labels: Tensor, queue: Tensor,
                 queue_labels: Tensor) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        """Build the float32 logits ``(B, 1 + M)`` (own key in column 0) and the masks.

        Args:
            q (Tensor): L2-normalised queries ``(B, C)``.
            k (Tensor): L2-normalised keys ``(B, C)`` (detached by the caller).
            labels (Tensor): Labels of the batch ``(B, )``.
            queue (Tensor): Valid queue entries ``(K, C)`` (K may be 0).
            queue_labels (Tensor): Their labels ``(K, )``.

        Returns:
            tuple: ``logits`` ``(B, 1 + M)``, ``pos_mask`` ``(B, 1 + M)`` and
            ``valid_mask`` (``None`` in ``'queue'`` mode).
        """
        self._check_inputs(q, k, labels, queue, queue_labels)
        batch = q.size(0)
        with torch.autocast(device_type=q.device.type, enabled=False):
            q, k, queue = q.float(), k.float(), queue.float()
            l_pos = (q * k).sum(dim=1, keepdim=True)
            if self.contrast_mode == 'queue':
                contrast, contrast_labels = queue, queue_labels
            else:
                contrast = torch.cat([q, k, queue], dim=0)
                contrast_labels = torch.cat([labels, labels, queue_labels], dim=0)
            logits = torch.cat([l_pos, q @ contrast.t()], dim=1) / self.temperature
        pos_mask = same_label_mask(labels, contrast_labels)
        valid_mask = None
        if self.contrast_mode == 'batch_queue':
            # drop the anchor's own q_i and k_i (k_i already sits in column 0)
            eye = torch.eye(batch, dtype=torch.bool, device=q.device)
            drop = torch.cat([eye, eye, eye.new_zeros(batch, queue.size(0))], dim=1)
            valid_mask = torch.cat([drop.new_ones(batch, 1), ~drop], dim=1)
            pos_mask = pos_mask & ~drop
        pos_mask = torch.cat([pos_mask.new_zeros(batch, 1), pos_mask], dim=1)
        return logits, pos_mask, valid_mask

    def loss(self, q: Tensor, k: Tensor, labels: Tensor, queue: Tensor,
             queue_labels: Tensor) -> Tensor:
        """Compute the DSCL loss of a batch.

        Args:
            q (Tensor): L2-normalised queries ``(B, C)``.
            k (Tensor): L2-normalised keys ``(B, C)``, detached.
            labels (Tensor): Labels ``(B, )`` (long).
            queue (Tensor): Valid L2-normalised queue entries ``(K, C)``; K may be 0.
            queue_labels (Tensor): Their labels ``(K, )``.

        Returns:
            Tensor: The loss (float32 scalar).
        """
        logits, pos_mask, valid_mask = self.contrast(q, k, labels, queue, queue_labels)
        return self.loss_module(logits, pos_mask, valid_mask)

    @staticmethod
    def _check_inputs(q: Tensor, k: Tensor, labels: Tensor, queue: Tensor,
                      queue_labels: Tensor) -> None:
        """Raise a ``ValueError`` naming the argument whose shape is wrong."""
        if q.dim() != 2:
            raise ValueError(f'DSCLHead.loss: q must be (B, C), got {tuple(q.shape)}')
        batch, dim = q.shape
        if k.shape != q.shape:
            raise ValueError(f'DSCLHead.loss: k must have the shape of q {tuple(q.shape)}, '
                             f'got {tuple(k.shape)}')
        if labels.shape != (batch, ):
            raise ValueError(f'DSCLHead.loss: labels must be ({batch}, ), got '
                             f'{tuple(labels.shape)}')
        if queue.dim() != 2 or queue.size(1) != dim:
            raise ValueError(f'DSCLHead.loss: queue must be (K, {dim}), got {tuple(queue.shape)}')
        if queue_labels.shape != (queue.size(0), ):
            raise ValueError(f'DSCLHead.loss: queue_labels must be ({queue.size(0)}, ), got '
                             f'{tuple(queue_labels.shape)}')
