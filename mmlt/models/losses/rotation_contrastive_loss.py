"""InfoNCE with rotated patches as extra negatives: the patch-level stage of CFRL (Song et al.,
MMAsia 2024, "Coarse-Fine Decoupled Representation Learning")."""
from typing import Optional

import torch
from torch import Tensor, nn

from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS


def rotation_info_nce(pos_logits: Tensor, rot_logits: Tensor, neg_logits: Tensor) -> Tensor:
    """Per-anchor ``-log softmax([pos ; rot_1..R ; neg_1..K])_0`` in float32.

    Args:
        pos_logits (Tensor): ``(N, )`` anchor . positive / tau.
        rot_logits (Tensor): ``(N, R)`` anchor . rotated_r / tau (R may be 0).
        neg_logits (Tensor): ``(N, K)`` anchor . queue / tau (K may be 0).

    Returns:
        Tensor: The loss of each anchor, shape ``(N, )``.
    """
    if pos_logits.dim() != 1:
        raise ValueError(f'rotation_info_nce: pos_logits must be (N, ), got '
                         f'{tuple(pos_logits.shape)}')
    num = pos_logits.size(0)
    for name, value in (('rot_logits', rot_logits), ('neg_logits', neg_logits)):
        if value.dim() != 2 or value.size(0) != num:
            raise ValueError(f'rotation_info_nce: {name} must be ({num}, *), got '
                             f'{tuple(value.shape)}')
    pos = pos_logits.float()
    logits = torch.cat([pos[:, None], rot_logits.float(), neg_logits.float()], dim=1)
    return torch.logsumexp(logits, dim=1) - pos


@MODELS.register_module()
class RotationContrastiveLoss(nn.Module):
    """InfoNCE whose negatives are the anchor's own rotations plus the queue (CFRL, patch level).

    CFRL's patch-level stage adds rotated patches as negative samples so that
    the representation must encode orientation::

        L_i = -log exp(s_i^+) / (exp(s_i^+) + sum_r exp(s_ir^rot) + sum_k exp(s_ik^neg))

    with ``s = similarity / tau``. With no rotations it is the MoCo InfoNCE
    loss (mmpretrain ``ContrastiveHead`` with ``CrossEntropyLoss``). The
    rotation set must not contain 0 degrees (that copy would be a positive used
    as a negative); this is checked where the rotations are configured
    (algorithm / transform), not here.

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__()
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f"RotationContrastiveLoss: reduction must be 'none', 'mean' or "
                             f"'sum', got {reduction!r}")
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self,
                pos_logits: Tensor,
                rot_logits: Tensor,
                neg_logits: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        """Compute the loss.

        Args:
            pos_logits (Tensor): ``(N, )`` positive logits.
            rot_logits (Tensor): ``(N, R)`` logits of the rotated copies.
            neg_logits (Tensor): ``(N, K)`` logits of the queue.
            weight (Tensor, optional): Per-anchor weights ``(N, )``.
            avg_factor (float, optional): Divisor of the summed loss for ``'mean'``.
            reduction_override (str, optional): Overrides ``self.reduction``.

        Returns:
            Tensor: The (reduced) loss, float32.
        """
        reduction = reduction_override if reduction_override else self.reduction
        loss = rotation_info_nce(pos_logits, rot_logits, neg_logits)
        if weight is not None:
            weight = weight.float()
        loss = weight_reduce_loss(loss, weight=weight, reduction=reduction, avg_factor=avg_factor)
        return self.loss_weight * loss
