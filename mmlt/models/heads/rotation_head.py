"""Head of the patch-level stage of CFRL (Song et al., MMAsia 2024, "Coarse-Fine Decoupled
Representation Learning"): InfoNCE with rotated patches as extra negatives."""
from typing import List, Optional, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmpretrain.registry import MODELS


@MODELS.register_module()
class RotationContrastiveHead(BaseModule):
    """Contrastive head with rotation negatives (CFRL patch-level stage).

    For each patch-crop embedding ``a_n`` (anchor) with un-rotated counterpart
    ``p_n`` (its RoI feature or the key) and the embeddings ``r_nr`` of the same
    patch rotated by the configured angles, the logits are
    ``[a_n . p_n ; a_n . r_n1..r_nR ; a_n . queue] / tau`` with target 0
    (``RotationContrastiveLoss``), times ``loss_weight``. With ``R = 0`` it is
    the MoCo InfoNCE of mmpretrain's ``ContrastiveHead``.

    Gradients: the positive is detached here when ``detach_positive`` (it is a
    target, like PBSD's teacher and MoCo's key); the rotated embeddings keep
    their gradient (pushing the encoder's rotated views away is the point), and
    the queue is detached. The rotation set must not contain 0 degrees (a copy
    of the positive would be a negative): the algorithm / transform that
    produces the rotations checks that.

    Args:
        temperature (float): The temperature tau. Defaults to 0.2 (MoCo v2).
        loss_weight (float): Weight of this loss. Defaults to 1.0.
        detach_positive (bool): Stop the gradient through ``positive``.
            Defaults to True.
        loss (dict): Config of the loss. Defaults to
            ``dict(type='RotationContrastiveLoss')``.
        init_cfg (dict or List[dict], optional): Initialization config dict.
    """

    def __init__(self,
                 temperature: float = 0.2,
                 loss_weight: float = 1.0,
                 detach_positive: bool = True,
                 loss: dict = dict(type='RotationContrastiveLoss'),
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if temperature <= 0:
            raise ValueError(f'RotationContrastiveHead: temperature must be > 0, '
                             f'got {temperature}')
        self.loss_module = MODELS.build(loss)
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.detach_positive = detach_positive

    def loss(self, anchor: Tensor, positive: Tensor, rotated: Tensor, queue: Tensor) -> Tensor:
        """Compute ``loss_weight * InfoNCE`` with rotation negatives.

        Args:
            anchor (Tensor): L2-normalised patch-crop embeddings ``(N, C)``.
            positive (Tensor): L2-normalised un-rotated counterparts ``(N, C)``.
            rotated (Tensor): L2-normalised embeddings of the rotated patches
                ``(N, R, C)``; R may be 0.
            queue (Tensor): Queue entries ``(K, C)``; K may be 0.

        Returns:
            Tensor: The weighted loss (float32 scalar).
        """
        if anchor.dim() != 2 or positive.shape != anchor.shape:
            raise ValueError(f'RotationContrastiveHead.loss: anchor {tuple(anchor.shape)} and '
                             f'positive {tuple(positive.shape)} must both be (N, C)')
        num, dim = anchor.shape
        if rotated.dim() != 3 or rotated.size(0) != num or rotated.size(2) != dim:
            raise ValueError(f'RotationContrastiveHead.loss: rotated must be ({num}, R, {dim}), '
                             f'got {tuple(rotated.shape)}')
        if queue.dim() != 2 or queue.size(1) != dim:
            raise ValueError(f'RotationContrastiveHead.loss: queue must be (K, {dim}), '
                             f'got {tuple(queue.shape)}')
        if self.detach_positive:
            positive = positive.detach()
        with torch.autocast(device_type=anchor.device.type, enabled=False):
            anchor, positive, rotated = anchor.float(), positive.float(), rotated.float()
            l_pos = (anchor * positive).sum(dim=1)
            l_rot = torch.einsum('nc,nrc->nr', anchor, rotated)
            l_neg = anchor @ queue.detach().float().t()
            loss = self.loss_module(l_pos / self.temperature, l_rot / self.temperature,
                                    l_neg / self.temperature)
        return self.loss_weight * loss
