"""Patch-based self distillation loss of Xuan & Zhang, AAAI 2024, "Decoupled Contrastive
Learning for Long-Tailed Recognition", Eq. 11-14."""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS


def soft_target_cross_entropy(student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
    """``-sum_k softmax(teacher)_k * log_softmax(student)_k`` per row (Eq. 13-14).

    The teacher is detached, so no gradient reaches ``teacher_logits``; the
    computation is done in float32.

    Args:
        student_logits (Tensor): ``(N, D)`` logits of the student.
        teacher_logits (Tensor): ``(N, D)`` logits of the teacher.

    Returns:
        Tensor: The loss of each row, shape ``(N, )``.
    """
    if student_logits.dim() != 2 or student_logits.shape != teacher_logits.shape:
        raise ValueError(f'soft_target_cross_entropy: student {tuple(student_logits.shape)} and '
                         f'teacher {tuple(teacher_logits.shape)} logits must both be (N, D)')
    teacher = F.softmax(teacher_logits.detach().float(), dim=1)
    log_student = F.log_softmax(student_logits.float(), dim=1)
    return -(teacher * log_student).sum(dim=1)


@MODELS.register_module()
class PBSDLoss(nn.Module):
    """Patch-based self distillation (PBSD) loss (Xuan & Zhang, AAAI 2024, Eq. 11-14).

    For patch ``j`` of image ``i`` the teacher is the (detached) similarity
    distribution of the RoI feature ``f_ij`` over ``[z_i^+ ; queue]`` and the
    student that of the patch-crop embedding ``e_ij`` over the same keys::

        L_pbsd = mean_{i, j} -sum_k softmax(f_ij . K / tau)_k log softmax(e_ij . K / tau)_k

    This module takes the two logit matrices (one row per patch); the
    temperature and the feature products live in :class:`PBSDHead`.

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'`` over the rows.
            Defaults to ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__()
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f"PBSDLoss: reduction must be 'none', 'mean' or 'sum', "
                             f'got {reduction!r}')
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self,
                student_logits: Tensor,
                teacher_logits: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        """Compute the loss.

        Args:
            student_logits (Tensor): ``(N, D)``, ``[e . z^+ ; e . queue] / tau``.
            teacher_logits (Tensor): ``(N, D)``, ``[f . z^+ ; f . queue] / tau``
                (detached here).
            weight (Tensor, optional): Per-row weights ``(N, )``.
            avg_factor (float, optional): Divisor of the summed loss for ``'mean'``.
            reduction_override (str, optional): Overrides ``self.reduction``.

        Returns:
            Tensor: The (reduced) loss, float32.
        """
        reduction = reduction_override if reduction_override else self.reduction
        loss = soft_target_cross_entropy(student_logits, teacher_logits)
        if weight is not None:
            weight = weight.float()
        loss = weight_reduce_loss(loss, weight=weight, reduction=reduction, avg_factor=avg_factor)
        return self.loss_weight * loss
