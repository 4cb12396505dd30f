"""Refuse a checkpoint whose tensors do not fit the model built from the config."""
import re
from typing import List, Tuple

from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS
from mmlt.utils.model import unwrap_model

# what a mismatch of a key usually means, for the error message
_HINTS = (
    (re.compile(r'(^|\.)queue\.feats$'), 'queue length and feature dimension '
     '(model.queue_len, the neck/head out_channels)'),
    (re.compile(r'(^|\.)queue\.labels$'), 'queue length (model.queue_len)'),
    (re.compile(r'(^|\.)(fc|fc_cls|classifier)\.(weight|bias)$|(^|\.)class_means$'),
     'number of classes (model.head.num_classes) or head in_channels'),
)


@HOOKS.register_module()
class CheckpointShapeHook(Hook):
    """Raise when ``--resume`` / ``load_from`` meets a tensor of another shape.

    mmengine loads checkpoints non-strictly: a tensor whose shape differs from
    the model's (a queue of another length, a head for another number of
    classes) is skipped with a warning, and the run goes on with that part
    freshly initialised: a resumed DSCL run silently starts from an empty
    queue. This hook compares the shapes in ``after_load_checkpoint`` (called
    before the weights are copied) and raises one :class:`ValueError` listing
    every mismatched key with both shapes and what it usually means. Missing
    and unexpected keys stay allowed (loading a stage-1 checkpoint for NCM, a
    self-supervised checkpoint into a classifier).

    To start a model with another head from a checkpoint, load its backbone
    through ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=
    'backbone.')`` instead of ``load_from``.
    """

    priority = 'VERY_HIGH'

    @staticmethod
    def mismatches(state_dict: dict, model) -> List[Tuple[str, tuple, tuple]]:
        """``(key, checkpoint shape, model shape)`` of every key in both with different
        shapes (the ``module.`` prefix of a DDP checkpoint stripped, as mmengine does)."""
        own = model.state_dict()
        out = []
        for key, value in state_dict.items():
            key = re.sub(r'^module\.', '', key)
            if key in own and hasattr(value, 'shape') and tuple(value.shape) != tuple(
                    own[key].shape):
                out.append((key, tuple(value.shape), tuple(own[key].shape)))
        return out

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = unwrap_model(runner.model)
        state = checkpoint.get('state_dict', checkpoint)
        bad = self.mismatches(state, model)
        if not bad:
            return
        lines = []
        for key, theirs, ours in bad:
            hint = next((h for pattern, h in _HINTS if pattern.search(key)), None)
            lines.append(f'  {key}: checkpoint {theirs}, config {ours}'
                         + (f' ({hint})' if hint else ''))
        source = getattr(runner, '_load_from', None) or (
            f'the latest checkpoint in {runner.work_dir}')
        raise ValueError(
            f'{source}: {len(bad)} tensor(s) of the checkpoint do not fit the model built '
            'from the config:\n' + '\n'.join(lines) + '\nResume with the config that wrote '
            "the checkpoint, or load only the backbone with init_cfg=dict(type='Pretrained', "
            "checkpoint=..., prefix='backbone.').")
