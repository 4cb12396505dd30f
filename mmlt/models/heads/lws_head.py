"""Learnable weight scaling (LWS) of Kang et al., ICLR 2020, "Decoupling Representation and
Classifier for Long-Tailed Recognition", Sec. 4.2."""
from typing import Tuple

import torch
import torch.nn as nn

from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS


@MODELS.register_module()
class LWSHead(LinearClsHead):
    """Linear head with frozen stage-1 weights and one learnable scale per class.

    Implements ``w_j <- f_j * w_j`` (Kang et al., Sec. 4.2, LWS) as in the official code
    (``classifier-balancing/models/TauNormClassifier.py``: ``x = self.fc(x); x *= self.scales``),
    so the **bias is scaled too**::

        logits_j = f_j * (w_j . x + b_j),   f_j initialised to 1.

    ``fc.weight`` and ``fc.bias`` are frozen (``requires_grad=False``); only ``scales``
    (``num_classes``) is trained, with class-balanced sampling. The ``fc`` keys are those of
    :class:`LinearClsHead`, so a stage-1 checkpoint (``head.fc.weight``/``head.fc.bias``)
    loads; with all scales equal to 1 the stage-1 logits are reproduced.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature dimension.
        **kwargs: Other arguments of :class:`LinearClsHead` (``loss``, ``topk``, ``init_cfg``).
    """

    def __init__(self, num_classes: int, in_channels: int, **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_channels=in_channels, **kwargs)
        self.scales = nn.Parameter(torch.ones(num_classes))
        for param in self.fc.parameters():
            param.requires_grad = False

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Return ``scales * fc(x)`` of shape ``(N, num_classes)``."""
        return self.fc(self.pre_logits(feats)) * self.scales
