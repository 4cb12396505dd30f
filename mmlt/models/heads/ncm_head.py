"""Nearest class mean (NCM) classifier of Kang et al., ICLR 2020, "Decoupling Representation
and Classifier for Long-Tailed Recognition", Sec. 4.2."""
from typing import List, Tuple

import torch
import torch.nn.functional as F

from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


def center_normalize(feats: torch.Tensor, center: torch.Tensor) -> torch.Tensor:
    """Centre features by ``center`` and L2-normalise them: ``(x - mu) / ||x - mu||``.

    Args:
        feats (Tensor): Features ``(N, D)``.
        center (Tensor): Mean training feature ``(D, )``.

    Returns:
        Tensor: ``(N, D)`` unit-norm features.
    """
    return F.normalize(feats - center.to(feats), p=2, dim=1)


@MODELS.register_module()
class NCMHead(ClsHead):
    """Nearest-class-mean classifier on centred, L2-normalised features (Kang et al., Sec. 4.2).

    With ``x' = (x - mu) / ||x - mu||`` (``mu`` = ``feat_center``, the mean training feature)
    and ``m_j`` the re-normalised mean of the ``x'`` of class ``j`` (``class_means``), the score
    of class ``j`` is the cosine similarity ``x' . m_j / ||m_j||`` (``distance='cosine'``) or
    ``-||x' - m_j||`` (``distance='euclidean'``); the prediction is the nearest mean.

    Both statistics are buffers (saved in checkpoints) filled by
    :class:`mmlt.engine.hooks.ClassMeanHook` (or :meth:`update_means`) from the training set.
    By default the class means are re-normalised to unit norm; then ``||x' - m_j||^2 =
    2 - 2 x' . m_j`` and both distances give the same prediction. The official code
    (``classifier-balancing``, ``KNNClassifier`` with ``cl2ncs``) keeps the means
    un-normalised: ``normalize_means=False`` reproduces it for ``'euclidean'``. Nothing is
    trained: :meth:`loss` raises.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature dimension.
        distance (str): ``'cosine'`` or ``'euclidean'``. Defaults to ``'cosine'``.
        normalize_means (bool): Re-normalise the class means in :meth:`update_means`.
            Defaults to True.
        **kwargs: Other arguments of :class:`ClsHead` (``topk``, ``init_cfg``).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 distance: str = 'cosine',
                 normalize_means: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if distance not in ('cosine', 'euclidean'):
            raise ValueError(f"NCMHead: distance must be 'cosine' or 'euclidean', "
                             f'got {distance!r}')
        if num_classes <= 0:
            raise ValueError(f'NCMHead: num_classes={num_classes} must be positive')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.distance = distance
        self.normalize_means = normalize_means
        self.register_buffer('class_means', torch.zeros(num_classes, in_channels))
        self.register_buffer('feat_center', torch.zeros(in_channels))

    @torch.no_grad()
    def update_means(self, feat_center: torch.Tensor, class_means: torch.Tensor) -> None:
        """Store the training statistics.

        Args:
            feat_center (Tensor): ``(D, )`` mean training feature.
            class_means (Tensor): ``(C, D)`` class means of centred, L2-normalised features
                (re-normalised here to unit norm if ``normalize_means``).
        """
        if class_means.shape != self.class_means.shape:
            raise ValueError(f'NCMHead.update_means: class_means shape '
                             f'{tuple(class_means.shape)} != {tuple(self.class_means.shape)}')
        if feat_center.shape != self.feat_center.shape:
            raise ValueError(f'NCMHead.update_means: feat_center shape '
                             f'{tuple(feat_center.shape)} != {tuple(self.feat_center.shape)}')
        self.feat_center.copy_(feat_center)
        if self.normalize_means:
            class_means = F.normalize(class_means, p=2, dim=1)
        self.class_means.copy_(class_means)

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Return the ``(N, num_classes)`` similarity scores to the class means."""
        x = self.pre_logits(feats)
        if x.dim() != 2:
            raise ValueError(f'NCMHead: expects pooled features (N, D), got shape '
                             f'{tuple(x.shape)}; add a GlobalAveragePooling neck')
        if not bool(self.class_means.any()):
            raise RuntimeError('NCMHead: class_means are all zero; compute them first with '
                               "custom_hooks=[dict(type='ClassMeanHook', dataloader=...)]")
        x = center_normalize(x, self.feat_center)
        if self.distance == 'cosine':
            return x @ F.normalize(self.class_means, p=2, dim=1).t()
        return -torch.cdist(x, self.class_means)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        """NCM has nothing to train."""
        raise RuntimeError('NCMHead has no trainable parameters; run test/val with a '
                           'ClassMeanHook instead of training')
