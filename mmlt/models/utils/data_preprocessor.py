"""Preprocessor for multi-view inputs whose views may be stacks of crops."""
from typing import Sequence

import torch
from mmpretrain.models.utils import ClsDataPreprocessor, SelfSupDataPreprocessor
from mmpretrain.registry import MODELS
from torch import Tensor

from .batch_augment import BatchAugment, MultiViewBatchAugment


@MODELS.register_module()
class PatchViewsDataPreprocessor(SelfSupDataPreprocessor):
    """:class:`SelfSupDataPreprocessor` that also accepts stacks of crops.

    With PBSD (see :class:`mmlt.datasets.transforms.PBSDMultiView`) each
    sample's inputs are ``[query (3, H, W), key (3, H, W),
    crops (L, 3, p, p)]`` and default collate gives ``[(B, 3, H, W), (B, 3, H, W),
    (B, L, 3, p, p)]``. mmpretrain's preprocessor swaps channels along dim 1,
    which is ``L`` for the crops; this one swaps along the channel dim
    (``-3``) of every view, converts to float, normalises, and flattens a
    5-D view to ``(B * L, 3, p, p)`` (row ``b * L + j`` = crop ``j`` of
    sample ``b``). 4-D views pass through exactly as in the parent class.

    Args: see :class:`mmpretrain.models.utils.SelfSupDataPreprocessor`.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        """Cast, convert, normalise and flatten all views.

        Args:
            data (dict): ``inputs`` and ``data_samples`` from default collate.
            training (bool): Unused.

        Returns:
            dict: ``inputs`` (tensor or list of tensors) and ``data_samples``.
        """
        if not isinstance(data, dict):
            raise TypeError('PatchViewsDataPreprocessor: use default_collate '
                            f'in the dataloader (got {type(data)})')
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = [self._process(view) for view in inputs]
        else:
            inputs = self._process(inputs)
        return {'inputs': inputs, 'data_samples': data.get('data_samples')}

    def _process(self, view: Tensor) -> Tensor:
        """Convert one view (B, 3, H, W) or (B, L, 3, p, p) to normalised
        float (B, 3, H, W) or (B * L, 3, p, p)."""
        if view.dim() == 5:
            view = view.flatten(0, 1)
        elif view.dim() != 4:
            raise ValueError('PatchViewsDataPreprocessor: each view must be '
                             '(B, 3, H, W) or (B, L, 3, H, W), got '
                             f'{tuple(view.shape)}')
        if self._channel_conversion:
            view = view[:, [2, 1, 0], ...]
        view = view.float()
        if self._enable_normalize:
            view = (view - self.mean) / self.std
        return view


def to_memory_format(view: Tensor, channels_last: bool) -> Tensor:
    """``view`` in channels-last memory format when asked (4-D tensors only)."""
    if channels_last and view.dim() == 4:
        return view.contiguous(memory_format=torch.channels_last)
    return view


@MODELS.register_module()
class BatchAugViewsDataPreprocessor(PatchViewsDataPreprocessor):
    """Draws the contrastive views of a batch on the model's device.

    The batched counterpart of the per-image ``MultiView`` /
    :class:`mmlt.datasets.transforms.PBSDMultiView` pipelines: the dataloader
    only hands over the decoded images (``PackInputs`` of ``img``, all of one
    size, e.g. a dataset with ``preload=True``), and in training this
    preprocessor converts the batch to RGB floats in ``[0, 1]``, draws every
    view with :class:`mmlt.models.utils.MultiViewBatchAugment` (per-sample
    random parameters, as batched tensor operations: on a GPU the data
    pipeline no longer runs on the CPU, on a CPU no dataloader worker competes
    with the model), normalises them and, with patches, stores each sample's
    boxes ``(L, 4)`` as its ``patch_boxes``. The output is what the per-image
    pipeline gives the model: ``[query, key]`` or ``[query, key, crops]``.

    Outside training (or for inputs that are already lists of views) it is
    :class:`PatchViewsDataPreprocessor`.

    Args:
        views (dict): Arguments of :class:`MultiViewBatchAugment`.
        channels_last (bool): Return the views in channels-last memory format
            (faster convolutions on CPUs with oneDNN and on tensor cores).
            Defaults to False.
        **kwargs: :class:`PatchViewsDataPreprocessor` arguments (``mean``,
            ``std`` in 0-255 units, ``to_rgb``).
    """

    def __init__(self, views: dict, channels_last: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.views = MultiViewBatchAugment(**views)
        self.channels_last = channels_last

    def forward(self, data: dict, training: bool = False) -> dict:
        """Draw, normalise and return the views (training) or normalise (otherwise).

        Args:
            data (dict): ``inputs`` (uint8 ``(B, 3, H, W)``) and ``data_samples``.
            training (bool): Whether to draw the training views.

        Returns:
            dict: ``inputs`` (list of views) and ``data_samples``.
        """
        inputs = data.get('inputs') if isinstance(data, dict) else None
        if not training or not isinstance(inputs, Tensor):
            out = super().forward(data, training)
            inputs = out['inputs']
            out['inputs'] = [to_memory_format(v, self.channels_last) for v in inputs] \
                if isinstance(inputs, (list, tuple)) else to_memory_format(
                    inputs, self.channels_last)
            return out
        data = self.cast_data(data)
        imgs = data['inputs']
        if imgs.dim() != 4:
            raise ValueError('BatchAugViewsDataPreprocessor: training inputs must be one batch '
                             f'of images (B, 3, H, W), got {tuple(imgs.shape)}')
        if self._channel_conversion:
            imgs = imgs[:, [2, 1, 0], ...]
        views, boxes = self.views(imgs.float() / 255.)
        views = [to_memory_format(self._normalize(v * 255.), self.channels_last) for v in views]
        data_samples = data.get('data_samples')
        if boxes is not None:
            if data_samples is None:
                raise ValueError('BatchAugViewsDataPreprocessor: patches need data_samples '
                                 '(PackInputs) to carry their boxes')
            for sample, b in zip(data_samples, boxes):
                sample.set_field(b, 'patch_boxes')
        return {'inputs': views, 'data_samples': data_samples}

    def _normalize(self, view: Tensor) -> Tensor:
        if self._enable_normalize:
            view = (view - self.mean) / self.std
        return view


@MODELS.register_module()
class BatchAugClsDataPreprocessor(ClsDataPreprocessor):
    """:class:`ClsDataPreprocessor` that augments training batches on the model's device.

    After the usual conversion (BGR -> RGB, normalisation), training batches
    go through ``augments``, kornia augmentations that draw per sample
    (e.g. CIFAR's ``RandomCrop(32, padding=4)`` + ``RandomHorizontalFlip``),
    applied to the images in ``[0, 1]`` and normalised again. With the
    images preloaded by the dataset (``preload=True``) and a pipeline of just
    ``PackInputs``, the dataloader needs no worker process.

    Args:
        augments (list[dict]): kornia augmentations
            (:class:`mmlt.models.utils.BatchAugment`). Defaults to none.
        channels_last (bool): Return inputs in channels-last memory format.
            Defaults to False.
        **kwargs: :class:`ClsDataPreprocessor` arguments.
    """

    def __init__(self, augments: Sequence[dict] = (), channels_last: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.augments = BatchAugment(augments)
        self.channels_last = channels_last

    def forward(self, data: dict, training: bool = False) -> dict:
        """Convert and normalise (:class:`ClsDataPreprocessor`), then augment in training.

        Args:
            data (dict): Data from the dataloader.
            training (bool): Whether to augment.

        Returns:
            dict: ``inputs`` and ``data_samples``.
        """
        data = super().forward(data, training)
        inputs = data['inputs']
        if training and len(self.augments):
            if self._enable_normalize:
                inputs = (self.augments((inputs * self.std + self.mean) / 255.) * 255. -
                          self.mean) / self.std
            else:
                inputs = self.augments(inputs / 255.) * 255.
        data['inputs'] = to_memory_format(inputs, self.channels_last)
        return data
