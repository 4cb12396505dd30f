"""Decoupled supervised contrastive loss of Xuan & Zhang, AAAI 2024, "Decoupled Contrastive
Learning for Long-Tailed Recognition", Eq. 8-9 (and the SCL baseline it generalises)."""
from typing import Optional, Union

import torch
from torch import Tensor, nn

from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS

EMPTY_POS_MODES = ('one', 'alpha')


def dscl_loss(logits: Tensor,
              pos_mask: Tensor,
              valid_mask: Optional[Tensor] = None,
              alpha: Union[float, Tensor, None] = 0.1,
              empty_pos: str = 'one') -> Tensor:
    """Per-anchor DSCL loss (Eq. 8-9), or SCL when ``alpha`` is ``None``.

    Column 0 of ``logits`` is the anchor's own positive ``z_i^+`` (the key of
    its other view); columns ``1..M`` are the contrast set ``M``. With
    ``p(z_t | z_i) = softmax over the valid columns``::

        DSCL: L_i = -[alpha log p(z_i^+) + (1 - alpha) / |P_i| sum_{t in P_i} log p(z_t)]
        SCL:  L_i = -1 / (|P_i| + 1) sum_{t in {z_i^+} U P_i} log p(z_t)

    When ``P_i`` is empty, DSCL keeps only the own-key term, weighted by 1
    (``empty_pos='one'``, what the official code computes: its weights 1 and
    beta/|P_i| are divided by their sum, which is 1 when ``P_i`` is empty; it is
    also the SCL value) or by ``alpha`` (``empty_pos='alpha'``, Eq. 9 read
    literally). Everything is computed in float32 with ``logsumexp``.

    Args:
        logits (Tensor): Similarities over temperature, shape ``(N, 1 + M)``.
        pos_mask (Tensor): Bool ``(N, 1 + M)``, True at the members of ``P_i``
            (same-class contrast features other than ``z_i^+``). Column 0 is
            ignored (``z_i^+`` is never in ``P_i``).
        valid_mask (Tensor, optional): Bool ``(N, 1 + M)``, False at columns
            that are not in the denominator (e.g. the anchor itself). Column 0
            is always valid. Defaults to None (all valid).
        alpha (float | Tensor | None): Weight of the own positive, a number in
            [0, 1] or a tensor ``(N,)`` (one per anchor); ``None`` gives SCL.
            Defaults to 0.1.
        empty_pos (str): Own-key weight for anchors with empty ``P_i``:
            ``'one'`` (official code) or ``'alpha'`` (Eq. 9 literally).

    Returns:
        Tensor: The loss of each anchor, float32, shape ``(N, )``.
    """
    if logits.dim() != 2 or logits.size(1) < 1:
        raise ValueError(f'dscl_loss: logits must have shape (N, 1 + M), got {tuple(logits.shape)}')
    if pos_mask.shape != logits.shape:
        raise ValueError(f'dscl_loss: pos_mask shape {tuple(pos_mask.shape)} != logits shape '
                         f'{tuple(logits.shape)}')
    if empty_pos not in EMPTY_POS_MODES:
        raise ValueError(f'dscl_loss: empty_pos must be one of {EMPTY_POS_MODES}, '
                         f'got {empty_pos!r}')
    logits = logits.float()
    num_anchors = logits.size(0)
    pos_mask = pos_mask.bool().clone()
    pos_mask[:, 0] = False
    if valid_mask is None:
        lse = torch.logsumexp(logits, dim=1)
    else:
        if valid_mask.shape != logits.shape:
            raise ValueError(f'dscl_loss: valid_mask shape {tuple(valid_mask.shape)} != logits '
                             f'shape {tuple(logits.shape)}')
        valid_mask = valid_mask.bool().clone()
        valid_mask[:, 0] = True
        pos_mask &= valid_mask
        lse = torch.logsumexp(logits.masked_fill(~valid_mask, float('-inf')), dim=1)
    log_prob = logits - lse[:, None]
    own = log_prob[:, 0]
    num_pos = pos_mask.sum(dim=1).float()
    pos_sum = torch.where(pos_mask, log_prob, log_prob.new_zeros(())).sum(dim=1)
    if alpha is None:  # SCL: uniform weights over {z_i^+} U P_i
        return -(own + pos_sum) / (num_pos + 1)
    alpha = torch.as_tensor(alpha, dtype=torch.float32, device=logits.device)
    if alpha.dim() > 1 or (alpha.dim() == 1 and alpha.numel() != num_anchors):
        raise ValueError(f'dscl_loss: alpha must be a number or a tensor of shape '
                         f'({num_anchors}, ), got shape {tuple(alpha.shape)}')
    alpha = alpha.expand(num_anchors)
    pos_mean = pos_sum / num_pos.clamp(min=1)
    loss = -(alpha * own + (1 - alpha) * pos_mean)
    empty_weight = torch.ones_like(alpha) if empty_pos == 'one' else alpha
    return torch.where(num_pos > 0, loss, -empty_weight * own)


@MODELS.register_module()
class DSCLLoss(nn.Module):
    """Decoupled supervised contrastive loss (Xuan & Zhang, AAAI 2024, Eq. 8-9).

    The own positive ``z_i^+`` keeps a fixed share ``alpha`` of the pull and
    the same-class features ``P_i`` share ``1 - alpha`` whatever ``|P_i|``,
    so head classes (large ``|P_i|``) no longer drown the instance term as in
    SCL, where ``z_i^+`` gets only ``1 / (|P_i| + 1)``. ``alpha = 1`` is the
    self-supervised MoCo loss, ``alpha = 1 / (|P_i| + 1)`` gives SCL back and
    ``alpha=None`` selects SCL itself. See :func:`dscl_loss` for the exact
    formula and the input layout (own positive in column 0).

    Args:
        alpha (float, optional): Weight of the own positive, in [0, 1]; the
            paper uses 0.1. ``None`` selects SCL. Defaults to 0.1.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        beta (float, optional): The official code's parameterisation (weights 1
            for the own key and ``beta / |P_i|`` for each same-class feature),
            i.e. ``alpha = 1 / (1 + beta)``; its default is 8. If given it sets
            ``alpha`` (do not also change ``alpha``). Defaults to None.
        empty_pos (str): Weight of the own-key term when ``P_i`` is empty:
            ``'one'`` (official code, = SCL) or ``'alpha'`` (Eq. 9 literally).
            Defaults to ``'one'``.
    """

    def __init__(self,
                 alpha: Optional[float] = 0.1,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 beta: Optional[float] = None,
                 empty_pos: str = 'one') -> None:
        super().__init__()
        if beta is not None:
            if alpha is not None and alpha != 0.1:
                raise ValueError(f'DSCLLoss: give alpha ({alpha}) or beta ({beta}), not both')
            if beta < 0:
                raise ValueError(f'DSCLLoss: beta must be >= 0, got {beta}')
            alpha = 1.0 / (1.0 + beta)
        if alpha is not None and not 0 <= alpha <= 1:
            raise ValueError(f'DSCLLoss: alpha must be in [0, 1] or None (SCL), got {alpha}')
        if empty_pos not in EMPTY_POS_MODES:
            raise ValueError(f'DSCLLoss: empty_pos must be one of {EMPTY_POS_MODES}, '
                             f'got {empty_pos!r}')
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f"DSCLLoss: reduction must be 'none', 'mean' or 'sum', "
                             f'got {reduction!r}')
        self.alpha = alpha
        self.empty_pos = empty_pos
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self,
                logits: Tensor,
                pos_mask: Tensor,
                valid_mask: Optional[Tensor] = None,
                alpha: Union[float, Tensor, None] = None,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        """Compute the loss.

        Args:
            logits (Tensor): ``(N, 1 + M)`` similarities over temperature,
                own positive in column 0.
            pos_mask (Tensor): Bool ``(N, 1 + M)``, the members of ``P_i``.
            valid_mask (Tensor, optional): Bool ``(N, 1 + M)``, the columns in
                the denominator. Defaults to None (all).
            alpha (float | Tensor, optional): Overrides ``self.alpha`` for this
                call (a number or one value per anchor). Defaults to None.
            weight (Tensor, optional): Per-anchor weights ``(N, )``.
            avg_factor (float, optional): Divisor of the summed loss for ``'mean'``.
            reduction_override (str, optional): Overrides ``self.reduction``.

        Returns:
            Tensor: The (reduced) loss, float32.
        """
        reduction = reduction_override if reduction_override else self.reduction
        loss = dscl_loss(logits, pos_mask, valid_mask,
                         alpha=self.alpha if alpha is None else alpha,
                         empty_pos=self.empty_pos)
        if weight is not None:
            weight = weight.float()
        loss = weight_reduce_loss(loss, weight=weight, reduction=reduction, avg_factor=avg_factor)
        return self.loss_weight * loss


@MODELS.register_module()
class SCLLoss(DSCLLoss):
    """Supervised contrastive loss (the SCL baseline of DSCL, Khosla et al. 2020 with an own key).

    ``L_i = -1 / (|P_i| + 1) sum_{z_t in {z_i^+} U P_i} log p(z_t | z_i)``, i.e.
    :class:`DSCLLoss` with ``alpha=None``.

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__(alpha=None, reduction=reduction, loss_weight=loss_weight)
