"""Stage 2 of Kang et al., ICLR 2020, "Decoupling Representation and Classifier for
Long-Tailed Recognition": a classifier whose feature extractor is frozen."""
import copy
from typing import Sequence, Union

import torch

from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS


@MODELS.register_module()
class DecoupledClassifier(ImageClassifier):
    """:class:`ImageClassifier` with frozen modules, for classifier re-balancing (stage 2).

    The modules named in ``freeze`` get ``requires_grad=False`` and stay in eval mode even
    after ``model.train()`` (their BatchNorm statistics are frozen); when every module before
    the head is frozen, features are computed under ``torch.no_grad()``. Only the head is
    trained (cRT: a re-initialised ``LinearClsHead``; LWS: :class:`LWSHead`'s scales) or
    nothing is (tau-norm, NCM).

    Loading stage-1 weights (mmengine ``PretrainedInit`` semantics: ``prefix`` selects and
    strips the keys of one sub-module of the checkpoint, which are then loaded into the module
    that owns the ``init_cfg``):

    - whole stage-1 model (LWS / tau-norm / NCM need the stage-1 head)::

        init_cfg=dict(type='Pretrained', checkpoint='stage1.pth')

    - backbone only (cRT, the head keeps its own init, e.g. ``Normal(std=0.01)``): put the
      prefix on the backbone, ``backbone=dict(..., init_cfg=dict(type='Pretrained',
      checkpoint='stage1.pth', prefix='backbone.'))``, or, equivalently, on this classifier:
      a classifier-level ``Pretrained`` ``init_cfg`` whose ``prefix`` names one of
      ``backbone.``/``neck.``/``head.`` is moved to that sub-module (plain mmengine would load
      the stripped keys into the whole classifier, where no key matches).

    Args:
        freeze (Sequence[str]): Names of the sub-modules to freeze. Missing ones (e.g. no neck)
            are skipped. Defaults to ``('backbone', 'neck')``.
        init_cfg (dict | list[dict], optional): See above.
        **kwargs: The other arguments of :class:`ImageClassifier`.
    """

    def __init__(self,
                 backbone: dict,
                 freeze: Sequence[str] = ('backbone', 'neck'),
                 init_cfg: Union[dict, list, None] = None,
                 **kwargs) -> None:
        init_cfg, backbone, kwargs = self._route_prefixed_init(init_cfg, backbone, kwargs)
        super().__init__(backbone=backbone, init_cfg=init_cfg, **kwargs)
        if isinstance(freeze, str):
            freeze = (freeze, )
        for name in freeze:
            if name not in ('backbone', 'neck', 'head'):
                raise ValueError(f"DecoupledClassifier: freeze entry {name!r} is not one of "
                                 "'backbone', 'neck', 'head'")
        self.freeze = tuple(n for n in freeze if getattr(self, n, None) is not None)
        for name in self.freeze:
            for param in getattr(self, name).parameters():
                param.requires_grad = False
        self.train(self.training)

    @staticmethod
    def _route_prefixed_init(init_cfg, backbone, kwargs):
        """Move a ``Pretrained`` init_cfg whose prefix names a sub-module onto that module."""
        modules = dict(backbone=backbone, neck=kwargs.get('neck'), head=kwargs.get('head'))
        cfgs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
        kept = []
        for cfg in cfgs:
            name = None
            if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
                name = str(cfg.get('prefix') or '').rstrip('.')
            if name not in modules:
                kept.append(cfg)
                continue
            if not isinstance(modules[name], dict):
                raise ValueError(f"DecoupledClassifier: init_cfg prefix {cfg['prefix']!r} "
                                 f'names a {name} that is not given as a config dict')
            modules[name] = dict(copy.deepcopy(modules[name]),
                                 init_cfg=dict(cfg, prefix=name + '.'))
        kwargs = dict(kwargs)
        kwargs.update({k: modules[k] for k in ('neck', 'head') if k in kwargs})
        if isinstance(init_cfg, list):
            init_cfg = kept
        elif not kept:
            init_cfg = None
        return init_cfg, modules['backbone'], kwargs

    @property
    def _features_frozen(self) -> bool:
        """Whether every module before the head is frozen."""
        return 'backbone' in self.freeze and (not self.with_neck or 'neck' in self.freeze)

    def extract_feat(self, inputs: torch.Tensor, stage: str = 'neck'):
        """Like :meth:`ImageClassifier.extract_feat`; no autograd graph through frozen parts."""
        if stage not in ('backbone', 'neck', 'pre_logits'):
            raise ValueError(f'Invalid output stage "{stage}", choose from "backbone", '
                             '"neck" and "pre_logits"')
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self._features_frozen):
            x = self.backbone(inputs)
            if stage == 'backbone':
                return x
            if self.with_neck:
                x = self.neck(x)
        if stage == 'neck':
            return x
        if not (self.with_head and hasattr(self.head, 'pre_logits')):
            raise RuntimeError("No head or the head doesn't implement `pre_logits` method.")
        return self.head.pre_logits(x)

    def train(self, mode: bool = True) -> 'DecoupledClassifier':
        """Set train mode; the frozen modules stay in eval mode."""
        super().train(mode)
        for name in getattr(self, 'freeze', ()):
            getattr(self, name).eval()
        return self
