"""Head of patch-based self distillation (PBSD) of Xuan & Zhang, AAAI 2024, "Decoupled
Contrastive Learning for Long-Tailed Recognition", Eq. 11-14."""
from typing import List, Optional, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmpretrain.registry import MODELS


@MODELS.register_module()
class PBSDHead(BaseModule):
    """Patch-based self distillation head (Xuan & Zhang, AAAI 2024, Eq. 11-14).

    For image ``i`` and patch ``j`` it forms the similarities of the RoI
    feature ``f_ij`` (teacher, computed without gradient) and of the patch-crop
    embedding ``e_ij`` (student) with the keys ``[z_i^+ ; queue]``, divides them
    by ``tau`` and applies the loss (``PBSDLoss``: ``-sum teacher * log
    student``, averaged over ``i`` and ``j``), then multiplies by
    ``loss_weight`` (lambda = 1.5 in the paper). The keys and the queue get no
    gradient either (they come from the momentum encoder). Logits are computed
    in float32 with autocast disabled.

    Args:
        temperature (float): The temperature tau. Defaults to 0.07.
        loss_weight (float): lambda, the weight of L_pbsd. Defaults to 1.5.
        loss (dict): Config of the loss. Defaults to ``dict(type='PBSDLoss')``.
        init_cfg (dict or List[dict], optional): Initialization config dict.
    """

    def __init__(self,
                 temperature: float = 0.07,
                 loss_weight: float = 1.5,
                 loss: dict = dict(type='PBSDLoss'),
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if temperature <= 0:
            raise ValueError(f'PBSDHead: temperature must be > 0, got {temperature}')
        self.loss_module = MODELS.build(loss)
        self.temperature = temperature
        self.loss_weight = loss_weight

    def _logits(self, feats: Tensor, k: Tensor, queue: Tensor) -> Tensor:
        """``[feats . k_i ; feats . queue] / tau`` of shape ``(B * L, 1 + K)``."""
        l_pos = torch.einsum('blc,bc->bl', feats, k)[..., None]
        l_neg = feats @ queue.t()
        return torch.cat([l_pos, l_neg], dim=2).flatten(0, 1) / self.temperature

    def loss(self, roi_feats: Tensor, crop_feats: Tensor, k: Tensor, queue: Tensor) -> Tensor:
        """Compute ``loss_weight * L_pbsd``.

        Args:
            roi_feats (Tensor): L2-normalised RoI features ``f_ij``, ``(B, L, C)``
                (teacher; no gradient reaches them).
            crop_feats (Tensor): L2-normalised patch-crop embeddings ``e_ij``,
                ``(B, L, C)`` (student).
            k (Tensor): Keys ``z_i^+``, ``(B, C)``.
            queue (Tensor): Queue entries ``(K, C)``; K may be 0.

        Returns:
            Tensor: The weighted loss (float32 scalar).
        """
        if roi_feats.dim() != 3 or crop_feats.shape != roi_feats.shape:
            raise ValueError(f'PBSDHead.loss: roi_feats {tuple(roi_feats.shape)} and crop_feats '
                             f'{tuple(crop_feats.shape)} must both be (B, L, C)')
        batch, _, dim = roi_feats.shape
        if k.shape != (batch, dim):
            raise ValueError(f'PBSDHead.loss: k must be ({batch}, {dim}), got {tuple(k.shape)}')
        if queue.dim() != 2 or queue.size(1) != dim:
            raise ValueError(f'PBSDHead.loss: queue must be (K, {dim}), got {tuple(queue.shape)}')
        with torch.autocast(device_type=crop_feats.device.type, enabled=False):
            k, queue = k.detach().float(), queue.detach().float()
            with torch.no_grad():
                teacher = self._logits(roi_feats.detach().float(), k, queue)
            student = self._logits(crop_feats.float(), k, queue)
        return self.loss_weight * self.loss_module(student, teacher)
