"""DSCL + PBSD: decoupled supervised contrastive learning with patch-based
self-distillation on a MoCo v2 framework."""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import get_rank, get_world_size, is_distributed
from mmengine.model import ExponentialMovingAverage
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..utils.queue import LabeledQueue


@MODELS.register_module()
class DSCL(BaseSelfSupervisor):
    """DSCL with optional PBSD (Xuan & Zhang, AAAI 2024).

    MoCo v2 framework: query encoder = ``backbone`` + ``neck`` (projection
    MLP), key encoder = its :class:`ExponentialMovingAverage`, a
    :class:`LabeledQueue` of keys **with labels** that starts empty. The
    algorithm only orchestrates; the losses live in the heads:

    - ``head`` (``DSCLHead``): L_dscl of Eq. 8-9 from the queries q, the keys
      k, the labels and the valid queue entries.
    - ``pbsd_head`` (``PBSDHead``, optional): L_pbsd of Eq. 11-14 from the
      patch features f_ij (``roi_neck`` RoIAlign on the query's last feature
      map, then the same ``neck``), the crop features e_ij (the query encoder
      on the patch crops), the keys and the queue. It returns the loss
      already multiplied by lambda.

    Inputs (from :class:`mmlt.datasets.transforms.PBSDMultiView` and
    :class:`mmlt.models.utils.PatchViewsDataPreprocessor`):
    ``[query (B, 3, H, W), key (B, 3, H, W)]`` and, with PBSD, a third tensor
    of crops ``(B * L, 3, p, p)``; the boxes ``(L, 4)`` (pixel xyxy on the
    query view) are each data sample's ``patch_boxes`` field.

    With ``use_labels=False`` no label is read: every sample is its own class
    for the head (instance ids), the queue stores ``-1``; with
    ``DSCLHead(alpha=1)`` this is MoCo v2 (CFRL's image-level stage).

    BatchNorm of the key encoder: with ``shuffle_bn=True`` the key batch is
    shuffled across GPUs (MoCo's shuffle-BN) when running distributed with
    world size > 1; otherwise nothing is shuffled (in one process the batch
    statistics do not depend on the order). The alternative is SyncBN:
    set ``shuffle_bn=False`` and convert the model, e.g.
    ``model_wrapper_cfg`` / ``cfg.sync_bn = 'torch'`` in the config.

    Args:
        backbone (dict): Backbone config; its last output is the feature map
            used by ``roi_neck``; as in MoCo its whole output tuple goes to
            the neck (``MoCoV2Neck`` wants a single stage, e.g.
            ``out_indices=(3, )``).
        neck (dict): Projection neck config (e.g. ``MoCoV2Neck``); tuple in,
            tuple out; must accept (N, C, 1, 1) maps (it is also the PBSD
            patch projection).
        head (dict): ``DSCLHead`` config.
        pbsd_head (dict, optional): ``PBSDHead`` config; None disables PBSD.
        roi_neck (dict, optional): ``PatchRoINeck`` config; required with
            ``pbsd_head``.
        queue_len (int): Queue length K. Defaults to 65536.
        feat_dim (int): Projection dimension. Defaults to 128.
        momentum (float): EMA momentum in mmengine's convention
            (0.001 == MoCo's m = 0.999). Defaults to 0.001.
        use_labels (bool): Whether labels reach the loss and the queue.
            Defaults to True.
        shuffle_bn (bool): MoCo's shuffle-BN for the key encoder under DDP.
            Defaults to True.
        pretrained (str, optional): Checkpoint to initialise from.
        data_preprocessor (dict, optional): Defaults to
            ``PatchViewsDataPreprocessor``.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 pbsd_head: Optional[dict] = None,
                 roi_neck: Optional[dict] = None,
                 queue_len: int = 65536,
                 feat_dim: int = 128,
                 momentum: float = 0.001,
                 use_labels: bool = True,
                 shuffle_bn: bool = True,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        if isinstance(data_preprocessor, dict) or data_preprocessor is None:
            data_preprocessor = dict(data_preprocessor or {})
            data_preprocessor.setdefault('type', 'PatchViewsDataPreprocessor')
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if (pbsd_head is None) != (roi_neck is None):
            raise ValueError('DSCL: pbsd_head and roi_neck must be given '
                             'together (PBSD on) or both be None (PBSD off)')
        self.pbsd_head = MODELS.build(pbsd_head) if isinstance(
            pbsd_head, dict) else pbsd_head
        self.roi_neck = MODELS.build(roi_neck) if isinstance(
            roi_neck, dict) else roi_neck
        self.use_labels = use_labels
        self.shuffle_bn = shuffle_bn

        self.encoder_k = ExponentialMovingAverage(
            nn.Sequential(self.backbone, self.neck), momentum)
        self.queue = LabeledQueue(queue_len, feat_dim)

    @property
    def with_pbsd(self) -> bool:
        """Whether PBSD is on."""
        return self.pbsd_head is not None

    def _project(self, feats: Tuple[Tensor, ...]) -> Tensor:
        """Query projection head + L2 normalisation."""
        return F.normalize(self.neck(feats)[0], dim=1)

    @torch.no_grad()
    def _keys(self, im_k: Tensor) -> Tensor:
        """L2-normalised keys from the momentum encoder (after its update)."""
        self.encoder_k.update_parameters(
            nn.Sequential(self.backbone, self.neck))
        shuffle = (
            self.shuffle_bn and is_distributed() and get_world_size() > 1)
        if shuffle:
            im_k, idx_unshuffle = batch_shuffle_ddp(im_k)
        k = F.normalize(self.encoder_k(im_k)[0], dim=1)
        if shuffle:
            k = batch_unshuffle_ddp(k, idx_unshuffle)
        return k

    def _labels(self, data_samples: List[DataSample],
                device: torch.device) -> Tensor:
        """Ground-truth labels (B,), or instance ids when label-free."""
        if not self.use_labels:
            # every sample is its own class (ids unique across ranks and
            # never equal to the queue's -1): P_i is empty, nothing is read
            num = len(data_samples)
            return -2 - get_rank() * num - torch.arange(num, device=device)
        try:
            labels = [ds.gt_label for ds in data_samples]
        except AttributeError as e:
            raise ValueError('DSCL(use_labels=True): every data sample needs '
                             'gt_label') from e
        return torch.cat(labels).to(device=device, dtype=torch.long)

    def _boxes(self, data_samples: List[DataSample]) -> Tensor:
        """(B, L, 4) patch boxes (query-view pixel xyxy) of the data samples."""
        try:
            boxes = [ds.patch_boxes for ds in data_samples]
        except AttributeError as e:
            raise ValueError(f'{type(self).__name__} with patches: every data '
                             'sample needs patch_boxes (use PBSDMultiView and '
                             "PackInputs(algorithm_keys=['patch_boxes']))"
                             ) from e
        return torch.stack([torch.as_tensor(b) for b in boxes])

    def _roi_feats(self, fmap: Tensor, boxes: Tensor) -> Tensor:
        """f_ij (Eq. 11): RoIAlign on the query's feature map + the shared
        neck, L2-normalised, (B, L, C)."""
        batch, num = boxes.shape[:2]
        roi = self.roi_neck(fmap, boxes.to(fmap.device))  # (B, L, C_backbone)
        roi = roi.reshape(batch * num, -1, 1, 1)
        return self._project((roi, )).view(batch, num, -1)

    def _patch_feats(self, fmap: Tensor, crops: Tensor,
                     data_samples: List[DataSample]) -> Tuple[Tensor, Tensor]:
        """PBSD features (Eq. 11-12): f_ij from :meth:`_roi_feats`, e_ij from
        the crops through the query encoder (one batch). Both (B, L, C),
        L2-normalised."""
        boxes = self._boxes(data_samples)
        batch, num = boxes.shape[:2]
        if crops.size(0) != batch * num:
            raise ValueError(f'DSCL with PBSD: {crops.size(0)} crops for '
                             f'{batch} images x {num} boxes')
        f = self._roi_feats(fmap, boxes)
        e = self._project(self.backbone(crops)).view(batch, num, -1)
        return f, e

    def loss(self, inputs: List[Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, Tensor]:
        """L = L_dscl + lambda * L_pbsd, then enqueue the keys.

        Args:
            inputs (list[Tensor]): ``[im_q, im_k]`` or, with PBSD,
                ``[im_q, im_k, crops]``.
            data_samples (list[DataSample]): ``gt_label`` (when
                ``use_labels``) and ``patch_boxes`` (with PBSD).

        Returns:
            dict[str, Tensor]: ``loss_dscl`` and, with PBSD, ``loss_pbsd``.
        """
        num_views = 3 if self.with_pbsd else 2
        if not isinstance(inputs, (list, tuple)) or len(inputs) < num_views:
            raise ValueError(f'DSCL: inputs must be a list of {num_views} '
                             'tensors [query, key(, crops with PBSD)], got '
                             f'{type(inputs).__name__}')
        im_q, im_k = inputs[0], inputs[1]
        labels = self._labels(data_samples, im_q.device)

        feats_q = self.backbone(im_q)
        q = self._project(feats_q)
        k = self._keys(im_k)
        queue_feats, queue_labels = self.queue.valid()

        losses = dict(
            loss_dscl=self.head.loss(q, k, labels, queue_feats, queue_labels))
        if self.with_pbsd:
            f, e = self._patch_feats(feats_q[-1], inputs[2], data_samples)
            losses['loss_pbsd'] = self.pbsd_head.loss(f, e, k, queue_feats)

        self.queue.check_holds(k.size(0), type(self).__name__)
        self.queue.enqueue(k, labels if self.use_labels else None)
        return losses

    def forward(self,
                inputs: Union[Tensor, List[Tensor]],
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """``'tensor'``: backbone features (:meth:`extract_feat`);
        ``'loss'``: :meth:`loss`; ``'predict'``: :meth:`predict`."""
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    @torch.no_grad()
    def predict(self,
                inputs: Union[Tensor, List[Tensor]],
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        """Store the L2-normalised projection of each image (field
        ``embedding``) and its last backbone feature, globally average pooled
        (field ``feat``), e.g. for kNN / NCM evaluation.

        Args:
            inputs (Tensor | list[Tensor]): Images (B, 3, H, W); for a list
                the first view is used.
            data_samples (list[DataSample], optional): Samples to fill.

        Returns:
            list[DataSample]: One per image.
        """
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        feats = self.backbone(inputs)
        emb = self._project(feats)
        pooled = feats[-1].flatten(2).mean(2) if feats[-1].dim() == 4 \
            else feats[-1]
        if data_samples is None:
            data_samples = [DataSample() for _ in range(inputs.size(0))]
        for ds, e, p in zip(data_samples, emb, pooled):
            ds.set_field(e, 'embedding')
            ds.set_field(p, 'feat')
        return data_samples
