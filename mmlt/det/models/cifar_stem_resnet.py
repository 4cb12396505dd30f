# Copyright (c) mmlt contributors. All rights reserved.
"""An mmlt stage-1 backbone (MMPretrain's ``ResNet_CIFAR``) as an MMDetection backbone.

mmlt's Tiny-ImageNet-LT / CIFAR-LT stage-1 classifiers (``configs/decoupled/ce_resnet18_*``,
DSCL / PBSD, ...) use MMPretrain's ``ResNet_CIFAR``: a 3x3 stride-1 ``conv1`` and no max-pool,
so its four stages have strides 1, 2, 4, 8. Its state-dict keys are those of MMDetection's
``ResNet`` of the same depth (``conv1``, ``bn1``, ``layer1.0.conv1``, ...) except for the
shape of ``conv1.weight`` (64x3x3x3 against 64x3x7x7), and mmengine's ``Pretrained`` init
loads with ``strict=False``: into mmdet's ``ResNet`` such a checkpoint would load everything
but the stem, which would stay random, with a warning only. :class:`CifarStemResNet` is
``ResNet_CIFAR`` itself (same modules, same keys, same forward), registered in mmdet's
``MODELS`` with the four stages as outputs for an FPN, so the stage-1 weights load exactly.

Its ``Pretrained`` ``init_cfg`` is checked before mmengine loads it (:func:`check_pretrained`):
a checkpoint that cannot be read, holds no key with the ``prefix``, or (``strict_pretrained``)
whose keys or shapes differ from the backbone's is an error naming the file and the prefix.
(mmengine itself stops with ``AssertionError: backbone. is not in the pretrained model``,
without the file, and skips mismatched keys with a warning.)
"""
from typing import Dict, Optional, Sequence

import torch
from mmdet.registry import MODELS
from mmengine.runner.checkpoint import _load_checkpoint
from mmpretrain.models.backbones import ResNet, ResNet_CIFAR
from torch import nn


def _state_dict_of(checkpoint) -> Dict[str, torch.Tensor]:
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get('state_dict'), dict):
        return checkpoint['state_dict']
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get('model'), dict):
        return checkpoint['model']
    return checkpoint


def _describe_prefixes(keys: Sequence[str], limit: int = 8) -> str:
    heads = []
    for key in keys:
        head = key.split('.', 1)[0] + '.'
        if head not in heads:
            heads.append(head)
    more = f', ... ({len(heads)} in all)' if len(heads) > limit else ''
    return ', '.join(repr(h) for h in heads[:limit]) + more


def check_pretrained(module: nn.Module,
                     checkpoint: str,
                     prefix: Optional[str] = None,
                     strict: bool = True,
                     map_location: str = 'cpu') -> Dict[str, torch.Tensor]:
    """Check that ``checkpoint`` (under ``prefix``) fits ``module`` before loading it.

    Args:
        module (nn.Module): The module to be initialised (e.g. the backbone).
        checkpoint (str): Path or URL of the checkpoint (as in ``init_cfg``).
        prefix (str, optional): The keys to take, e.g. ``'backbone.'``.
        strict (bool): Also require the stripped keys to be exactly the
            module's state-dict keys, with the same shapes. Defaults to True.
        map_location (str): Defaults to ``'cpu'``.

    Returns:
        dict: The module's state dict from the checkpoint (prefix stripped).

    Raises:
        FileNotFoundError / RuntimeError: The checkpoint cannot be read.
        ValueError: No key starts with ``prefix``, or (``strict``) missing /
            unexpected keys or shape mismatches; the message names the file,
            the prefix and the keys.
    """
    try:
        ckpt = _load_checkpoint(checkpoint, map_location=map_location)
    except FileNotFoundError as e:
        raise FileNotFoundError(f'{checkpoint}: pretrained checkpoint not found ({e})') from e
    state = _state_dict_of(ckpt)
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint}: not a checkpoint (no state dict; got '
                         f'{type(ckpt).__name__})')
    if prefix:
        stripped = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not stripped:
            raise ValueError(
                f'{checkpoint}: no key starts with the prefix {prefix!r} (init_cfg prefix); '
                f'its keys start with {_describe_prefixes(list(state))}. Give the prefix of '
                'the backbone in that checkpoint (mmlt / MMPretrain classifiers and mmdet '
                "detectors: 'backbone.'), or none for a backbone-only checkpoint "
                '(tools/model_converters/extract_backbone.py)')
    else:
        stripped = dict(state)
    if strict:
        own = module.state_dict()
        missing = sorted(set(own) - set(stripped))
        unexpected = sorted(set(stripped) - set(own))
        shapes = [f'{k}: checkpoint {tuple(stripped[k].shape)} vs model {tuple(own[k].shape)}'
                  for k in own if k in stripped and hasattr(stripped[k], 'shape')
                  and tuple(stripped[k].shape) != tuple(own[k].shape)]
        if missing or unexpected or shapes:
            problems = []
            if shapes:
                problems.append('shape mismatch: ' + '; '.join(shapes[:5]))
            if missing:
                problems.append(f'{len(missing)} missing key(s): {missing[:5]}')
            if unexpected:
                problems.append(f'{len(unexpected)} unexpected key(s): {unexpected[:5]}')
            raise ValueError(
                f'{checkpoint} (prefix {prefix!r}) does not fit {type(module).__name__} '
                f'exactly: {"; ".join(problems)} (strict_pretrained=False loads what fits, '
                'as mmengine does)')
    return stripped


class _CheckedPretrainedMixin:
    """Four stage outputs by default, and a ``Pretrained`` ``init_cfg`` checked
    (:func:`check_pretrained`, ``strict_pretrained``) before mmengine loads it."""

    def __init__(self,
                 depth: int = 18,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 strict_pretrained: bool = True,
                 **kwargs) -> None:
        super().__init__(depth, out_indices=tuple(out_indices), **kwargs)
        self.strict_pretrained = strict_pretrained

    def init_weights(self) -> None:
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained' and not self.is_init:
            if not cfg.get('checkpoint'):
                raise ValueError(f'{type(self).__name__}: init_cfg type Pretrained needs a '
                                 'checkpoint')
            check_pretrained(self, cfg['checkpoint'], cfg.get('prefix'),
                             strict=self.strict_pretrained,
                             map_location=cfg.get('map_location', 'cpu'))
        super().init_weights()


@MODELS.register_module()
class CifarStemResNet(_CheckedPretrainedMixin, ResNet_CIFAR):
    """MMPretrain's ``ResNet_CIFAR`` (3x3 stride-1 stem, no max-pool) for MMDetection.

    The four stages (strides 1, 2, 4, 8; 64, 128, 256, 512 channels for
    depth 18) are the outputs by default, for an FPN. All arguments are
    ``ResNet_CIFAR``'s (``depth``, ``out_indices``, ``frozen_stages``,
    ``norm_eval``, ``norm_cfg``, ``init_cfg``, ...), plus:

    Args:
        strict_pretrained (bool): With a ``Pretrained`` ``init_cfg``, require the
            checkpoint's keys (after ``prefix``) to be exactly this backbone's,
            same shapes (see :func:`check_pretrained`). Defaults to True.

    Example (an mmlt stage-1 classifier checkpoint)::

        backbone=dict(type='CifarStemResNet', depth=18, init_cfg=dict(
            type='Pretrained', prefix='backbone.', checkpoint='work_dirs/ce/epoch_200.pth'))
    """


@MODELS.register_module()
class ImageNetStemResNet(_CheckedPretrainedMixin, ResNet):
    """MMPretrain's ``ResNet`` (7x7 stride-2 stem and max-pool) for MMDetection.

    The backbone of mmlt stage-1 classifiers trained with
    ``model.backbone.type='ResNet'`` (e.g. the ImageNet-LT ResNet-50s, or a
    Tiny-ImageNet ResNet-18 at 16x fewer operations than ``ResNet_CIFAR``):
    strides 4, 8, 16, 32, the four stages as outputs. mmdet's own ``ResNet``
    has the same keys and loads such a checkpoint too, but without
    :func:`check_pretrained`: a wrong prefix or a CIFAR-stem checkpoint would
    leave weights random with a warning only. Arguments are ``ResNet``'s plus
    ``strict_pretrained`` (see :class:`CifarStemResNet`).
    """
