# Copyright (c) mmlt contributors. All rights reserved.
"""Decoupled classifier re-training for detectors (the detection analogue of cRT)."""
from typing import List, Optional, Sequence, Union

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import initialize
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmlt.utils.model import unwrap_model


def _under(name: str, prefixes: Sequence[str]) -> bool:
    return any(name == p or name.startswith(p + '.') for p in prefixes)


@HOOKS.register_module()
class FreezeAllButHook(Hook):
    """Train only the given sub-modules / parameters; everything else is frozen.

    Stage 2 of a decoupled detector (Kang et al.'s classifier re-training,
    applied to a detector's final box classifier): load the stage-1 detector
    (``load_from``), keep every parameter but the classifier's fixed, and
    re-train the classifier with class-balanced (repeat-factor) sampling.

    * ``before_train`` (after ``load_from`` / resume): ``requires_grad`` is
      False for every parameter outside ``trainable`` and True inside, so the
      frozen parameters never get a gradient, and SGD / Adam (which skip
      parameters without one, weight decay and momentum included) leave them
      bit-identical. A name of ``trainable`` that matches no parameter is an
      error listing the candidates. With ``reinit_cfg``, the ``trainable``
      modules are re-initialised first (Kang et al.'s cRT re-initialises the
      classifier), except when the run resumes past its first iteration.
    * ``before_train_iter`` (the loops call ``model.train()`` before it):
      with ``norm_eval`` every BatchNorm (and Dropout) outside ``trainable``
      goes back to eval mode, so the running statistics stay the stage-1
      ones too.

    Distributed training: the parameters are frozen after the model is wrapped,
    so DDP needs ``find_unused_parameters = True`` (the stage-2 configs set it).

    Args:
        trainable (str | list[str]): Module or parameter names (as in
            ``model.named_parameters()``, without a DDP ``module.``), e.g.
            ``'roi_head.bbox_head.fc_cls'`` (Faster R-CNN) or
            ``'bbox_head.retina_cls'`` (RetinaNet).
        norm_eval (bool): Keep the frozen BatchNorm / Dropout layers in eval
            mode. Defaults to True.
        reinit_cfg (dict, optional): An mmengine ``init_cfg`` applied to each
            ``trainable`` module before training, e.g. ``dict(type='Normal',
            layer='Linear', std=0.01, bias=0)`` (mmdet's init of ``fc_cls``) or
            ``dict(type='Normal', layer='Conv2d', std=0.01, bias_prob=0.01)``
            (``retina_cls``). None (default) keeps the loaded weights.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 trainable: Union[str, Sequence[str]],
                 norm_eval: bool = True,
                 reinit_cfg: Optional[dict] = None) -> None:
        names = [trainable] if isinstance(trainable, str) else list(trainable or [])
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError('FreezeAllButHook: trainable must be a non-empty module name or '
                             f'list of names, got {trainable!r}')
        self.trainable: List[str] = [n.rstrip('.') for n in names]
        self.norm_eval = norm_eval
        if reinit_cfg is not None and not (isinstance(reinit_cfg, dict) and 'type' in reinit_cfg):
            raise ValueError('FreezeAllButHook: reinit_cfg must be an init_cfg dict with a type, '
                             f'got {reinit_cfg!r}')
        self.reinit_cfg = reinit_cfg

    def freeze(self, model: nn.Module) -> int:
        """Apply ``requires_grad``; returns the number of trainable parameters (elements)."""
        params = dict(model.named_parameters())
        for name in self.trainable:
            if not any(_under(p, [name]) for p in params):
                last = name.rsplit('.', 1)[-1]
                near = sorted({p.rsplit('.', 1)[0] for p in params if last in p})[:8]
                heads = sorted({p.rsplit('.', 1)[0] for p in params
                                if 'cls' in p.rsplit('.', 1)[0].rsplit('.', 1)[-1]})[:8]
                raise ValueError(
                    f'FreezeAllButHook: {name!r} matches no parameter of '
                    f'{type(model).__name__}; similar names: {near or heads}')
        count = 0
        for pname, param in params.items():
            train = _under(pname, self.trainable)
            param.requires_grad_(train)
            count += param.numel() if train else 0
        return count

    def set_eval(self, model: nn.Module) -> None:
        for name, module in model.named_modules():
            if (isinstance(module, (_BatchNorm, nn.Dropout))
                    and not _under(name, self.trainable)):
                module.eval()

    def reinit(self, model: nn.Module) -> None:
        """Apply ``reinit_cfg`` to every ``trainable`` module."""
        modules = dict(model.named_modules())
        for name in self.trainable:
            if name not in modules:
                raise ValueError(f'FreezeAllButHook: reinit_cfg needs module names; {name!r} is '
                                 f'not a module of {type(model).__name__}')
            initialize(modules[name], dict(self.reinit_cfg))

    def before_train(self, runner) -> None:
        model = unwrap_model(runner.model)
        count = self.freeze(model)
        if self.reinit_cfg is not None and runner.iter == 0:
            self.reinit(model)
            runner.logger.info(f'FreezeAllButHook: re-initialised {self.trainable} with '
                               f'{self.reinit_cfg}')
        total = sum(p.numel() for p in model.parameters())
        runner.logger.info(f'FreezeAllButHook: training {self.trainable} only: {count} of '
                           f'{total} parameters; the rest frozen'
                           + (', BatchNorm in eval mode' if self.norm_eval else ''))

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self.norm_eval:
            self.set_eval(unwrap_model(runner.model))
