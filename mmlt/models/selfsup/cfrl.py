"""CFRL: coarse-to-fine decoupled representation learning with rotated patches
as negatives (Song et al., MMAsia 2024), on the DSCL / MoCo v2 framework."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from .dscl import DSCL

POSITIVES = ('roi', 'key')


def check_rotations(rotations: Sequence[int]) -> Tuple[int, ...]:
    """Validate a rotation set (degrees, counter-clockwise).

    Every angle must be an integer multiple of 90 (the crops are square and
    rotated exactly, like ``np.rot90``), must not be the identity (0 modulo
    360: that copy is the positive itself and cannot also be a negative) and
    must not repeat another angle modulo 360.

    Args:
        rotations (Sequence[int]): The angles, e.g. ``(90, 180, 270)``; may be
            empty (then the patch loss is plain InfoNCE).

    Returns:
        tuple[int, ...]: The angles as ints.
    """
    angles = []
    for angle in rotations:
        if int(angle) != angle or int(angle) % 90 != 0:
            raise ValueError(f'CFRL: rotation angle {angle!r} is not a '
                             'multiple of 90 degrees')
        angle = int(angle)
        if angle % 360 == 0:
            raise ValueError(
                f'CFRL: rotation angle {angle} is the identity (0 modulo '
                '360); the un-rotated patch is the positive and cannot be a '
                'negative: remove it from `rotations`')
        if any((angle - a) % 360 == 0 for a in angles):
            raise ValueError(f'CFRL: rotation angle {angle} repeats another '
                             f'angle of {tuple(rotations)} modulo 360')
        angles.append(angle)
    return tuple(angles)


def rotate_crops(crops: Tensor, rotations: Sequence[int]) -> Tensor:
    """Rotated copies of each crop.

    Args:
        crops (Tensor): ``(N, C, p, p)`` crops.
        rotations (Sequence[int]): R angles, multiples of 90 (see
            :func:`check_rotations`), counter-clockwise as ``np.rot90`` on
            an ``(H, W, C)`` image.

    Returns:
        Tensor: ``(N * R, C, p, p)``; row ``n * R + r`` is crop ``n`` rotated
        by ``rotations[r]``.
    """
    if not rotations:
        return crops.new_zeros((0, ) + tuple(crops.shape[1:]))
    if crops.size(-1) != crops.size(-2) and any(a % 180 for a in rotations):
        raise ValueError('CFRL: crops must be square to rotate them by 90 '
                         f'degrees, got {tuple(crops.shape[-2:])}')
    # one op per angle (R <= 3), vectorised over all N crops
    rotated = [torch.rot90(crops, k=a // 90, dims=(-2, -1)) for a in rotations]
    return torch.stack(rotated, dim=1).flatten(0, 1)


@MODELS.register_module()
class CFRL(DSCL):
    """CFRL (Song et al., MMAsia 2024, "Coarse-Fine Decoupled Representation
    Learning") as a :class:`DSCL` with a rotation patch branch.

    The paper decouples the representation from the classifier and splits
    representation learning into two stages, both run by this class with
    different configs:

    - **image level** (stage 1a): unsupervised contrastive learning, i.e.
      ``use_labels=False``, ``DSCLHead(loss=DSCLLoss(alpha=1))`` (MoCo v2
      InfoNCE over the queue) and ``rotation_head=None``. No label is read.
    - **patch level** (stage 1b, initialised from 1a): ``L = L_img +
      L_rot (+ L_pbsd)``. For each of the L patches of a query view
      (:class:`mmlt.datasets.transforms.PBSDMultiView` boxes and crops), the
      crop embedding ``e_ij`` (anchor) is pulled to its un-rotated
      counterpart and pushed from the queue and from ``e_ij^r``, the
      embeddings of the same crop rotated by each angle of ``rotations``
      (the "rotated patches as negative samples")::

          L_rot = -1/(BL) sum_ij log exp(e_ij . p_ij / tau) / (
                  exp(e_ij . p_ij / tau) + sum_r exp(e_ij . e_ij^r / tau)
                  + sum_k exp(e_ij . queue_k / tau))

      (``RotationContrastiveHead``; its ``loss_weight`` is the weight of the
      term). The positive ``p_ij`` is ``'roi'``: the RoI feature f_ij
      (``roi_neck`` RoIAlign on the query's last feature map, then the shared
      projection ``neck``, as PBSD's Eq. 11), or ``'key'``: the image's key
      ``k_i``. The crops and all their rotations go through the query encoder
      as **one** batch (shared BatchNorm statistics); rotating happens here
      (``torch.rot90`` on the crop tensor, identical to ``np.rot90`` on the
      crop arrays), so the data pipeline is PBSD's. The image-level term
      ``head`` is optional (None drops it); with ``use_labels=True`` and
      ``DSCLLoss(alpha<1)`` labels join through DSCL. ``pbsd_head`` adds
      PBSD on the same crop embeddings.

    Stage 1a and 1b models have the same parameters and buffers (the RoI neck
    and the heads have none), so 1b loads 1a's whole checkpoint
    (``init_cfg=dict(type='Pretrained', checkpoint=...)``), queue included;
    the classifier stage loads the ``backbone.`` prefix.

    Inputs: ``[query, key]`` (image level) or ``[query, key, crops (B * L, 3,
    p, p)]`` with each data sample's ``patch_boxes`` (patch level).

    Args:
        backbone (dict): Backbone config (see :class:`DSCL`).
        neck (dict): Projection neck config (see :class:`DSCL`).
        head (dict, optional): Image-level ``DSCLHead``; None drops L_img.
        rotation_head (dict, optional): ``RotationContrastiveHead``; None
            disables the patch level.
        roi_neck (dict, optional): ``PatchRoINeck``; required for
            ``positive='roi'`` and for ``pbsd_head``.
        pbsd_head (dict, optional): ``PBSDHead``; None disables PBSD.
        rotations (Sequence[int]): Angles of the rotated negatives (multiples
            of 90, no 0). Defaults to (90, 180, 270).
        positive (str): ``'roi'`` or ``'key'``. Defaults to ``'roi'``.
        **kwargs: Other arguments of :class:`DSCL` (``queue_len``,
            ``feat_dim``, ``momentum``, ``use_labels``, ``shuffle_bn``,
            ``pretrained``, ``data_preprocessor``, ``init_cfg``).
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: Optional[dict] = None,
                 rotation_head: Optional[dict] = None,
                 roi_neck: Optional[dict] = None,
                 pbsd_head: Optional[dict] = None,
                 rotations: Sequence[int] = (90, 180, 270),
                 positive: str = 'roi',
                 **kwargs) -> None:
        if positive not in POSITIVES:
            raise ValueError(f'CFRL: positive must be one of {POSITIVES}, '
                             f'got {positive!r}')
        if head is None and rotation_head is None and pbsd_head is None:
            raise ValueError('CFRL: at least one of head, rotation_head and '
                             'pbsd_head must be given')
        needs_roi = pbsd_head is not None or (rotation_head is not None
                                              and positive == 'roi')
        if needs_roi and roi_neck is None:
            raise ValueError(f'CFRL: roi_neck is required with '
                             f'positive={positive!r} or pbsd_head')
        # DSCL pairs roi_neck with pbsd_head; CFRL may need it alone
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pbsd_head=pbsd_head,
            roi_neck=roi_neck if pbsd_head is not None else None,
            **kwargs)
        if self.roi_neck is None and roi_neck is not None:
            self.roi_neck = MODELS.build(roi_neck) if isinstance(
                roi_neck, dict) else roi_neck
        self.rotation_head = MODELS.build(rotation_head) if isinstance(
            rotation_head, dict) else rotation_head
        self.rotations = check_rotations(rotations)
        self.positive = positive

    @property
    def with_rotation(self) -> bool:
        """Whether the patch-level rotation branch is on."""
        return self.rotation_head is not None

    @property
    def with_patches(self) -> bool:
        """Whether the inputs must carry patch crops and boxes."""
        return self.with_rotation or self.with_pbsd

    def _crop_feats(self, crops: Tensor, batch: int,
                    num: int) -> Tuple[Tensor, Tensor]:
        """e_ij (B, L, C) and e_ij^r (B * L, R, C) from one query-encoder
        pass over the crops and their rotations."""
        if crops.size(0) != batch * num:
            raise ValueError(f'CFRL: {crops.size(0)} crops for {batch} '
                             f'images x {num} boxes')
        rotated = rotate_crops(crops, self.rotations) \
            if self.with_rotation else crops[:0]
        emb = self._project(self.backbone(torch.cat([crops, rotated])))
        num_rot = len(self.rotations) if self.with_rotation else 0
        e = emb[:batch * num].view(batch, num, -1)
        e_rot = emb[batch * num:].reshape(batch * num, num_rot, emb.size(1))
        return e, e_rot

    def loss(self, inputs: List[Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, Tensor]:
        """L = L_img + L_rot (+ L_pbsd), then enqueue the keys.

        Args:
            inputs (list[Tensor]): ``[im_q, im_k]`` or, at the patch level,
                ``[im_q, im_k, crops]``.
            data_samples (list[DataSample]): ``gt_label`` (only when
                ``use_labels``) and ``patch_boxes`` (patch level).

        Returns:
            dict[str, Tensor]: ``loss_dscl`` (with ``head``), ``loss_rot``
            (with ``rotation_head``) and ``loss_pbsd`` (with ``pbsd_head``).
        """
        num_views = 3 if self.with_patches else 2
        if not isinstance(inputs, (list, tuple)) or len(inputs) < num_views:
            raise ValueError(f'CFRL: inputs must be a list of {num_views} '
                             'tensors [query, key(, crops at the patch '
                             f'level)], got {type(inputs).__name__}')
        im_q, im_k = inputs[0], inputs[1]
        labels = self._labels(data_samples, im_q.device)
        needs_roi = self.with_pbsd or (self.with_rotation
                                       and self.positive == 'roi')
        feats_q = self.backbone(im_q) if (self.head is not None
                                          or needs_roi) else None
        k = self._keys(im_k)
        queue_feats, queue_labels = self.queue.valid()

        losses = dict()
        if self.head is not None:
            q = self._project(feats_q)
            losses['loss_dscl'] = self.head.loss(q, k, labels, queue_feats,
                                                 queue_labels)
        if self.with_patches:
            boxes = self._boxes(data_samples)
            batch, num = boxes.shape[:2]
            e, e_rot = self._crop_feats(inputs[2], batch, num)
            f = None
            if needs_roi:
                # f_ij is a target everywhere unless the rotation head
                # explicitly keeps the positive's gradient
                keep_grad = self.with_rotation and self.positive == 'roi' \
                    and not self.rotation_head.detach_positive
                with torch.set_grad_enabled(keep_grad
                                            and torch.is_grad_enabled()):
                    f = self._roi_feats(feats_q[-1], boxes)
            if self.with_pbsd:
                losses['loss_pbsd'] = self.pbsd_head.loss(f, e, k, queue_feats)
            if self.with_rotation:
                positive = f.flatten(0, 1) if self.positive == 'roi' \
                    else k.repeat_interleave(num, dim=0)
                losses['loss_rot'] = self.rotation_head.loss(
                    e.flatten(0, 1), positive, e_rot, queue_feats)

        self.queue.check_holds(k.size(0), type(self).__name__)
        self.queue.enqueue(k, labels if self.use_labels else None)
        return losses
