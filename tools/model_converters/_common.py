# Copyright (c) mmlt contributors. All rights reserved.
"""Helpers shared by the weight converters of ``tools/model_converters/``.

- :func:`load_checkpoint_file` / :func:`save_checkpoint_file`: read any checkpoint on the CPU
  (``torch.load`` with ``weights_only=True``; ``import mmlt`` allow-lists the few globals an
  mmengine checkpoint holds) and write ``{'state_dict': ..., 'meta': ...}``.
- :func:`strip_module_prefix`: the ``module.`` prefix of ``DataParallel`` /
  ``DistributedDataParallel``, on every key or on none.
- :func:`resnet_layout` / :func:`check_resnet_keys`: the torchvision ResNet / ResNeXt key layout
  (also mmpretrain's ``ResNet`` / ``ResNeXt`` and Kang et al.'s ``ResNetFeature``: conv1, bn1,
  layerX.Y.convN / bnN, layerX.Y.downsample.0 / 1) inferred from the keys, every key checked.

Every error is a :class:`ValueError` that names the file and the offending key(s).
"""
import os.path as osp
from typing import Dict, Iterable, List, Optional, Tuple

import torch

BN_SUFFIXES = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')

# (block type, blocks per stage) -> depth, as in torchvision and mmpretrain's ResNet
RESNET_DEPTHS = {
    ('BasicBlock', (2, 2, 2, 2)): 18,
    ('BasicBlock', (3, 4, 6, 3)): 34,
    ('Bottleneck', (3, 4, 6, 3)): 50,
    ('Bottleneck', (3, 4, 23, 3)): 101,
    ('Bottleneck', (3, 8, 36, 3)): 152,
}

_MAX_LISTED = 10


def format_keys(keys: Iterable[str]) -> str:
    """``'a', 'b', ... (N more)``: the first sorted keys of a possibly long list."""
    keys = sorted(keys)
    shown = ', '.join(repr(k) for k in keys[:_MAX_LISTED])
    if len(keys) > _MAX_LISTED:
        shown += f' ... ({len(keys) - _MAX_LISTED} more)'
    return shown


def load_checkpoint_file(path: str) -> dict:
    """Load a checkpoint on the CPU; a :class:`ValueError` naming ``path`` if it cannot be read.

    ``weights_only=True`` (torch's safe unpickler). ``import mmlt`` allow-lists the globals of
    mmengine checkpoints (message hub, numpy scalars); anything else is refused.
    """
    import mmlt  # noqa: F401  (allow-lists mmengine checkpoint globals for weights_only)
    if not osp.isfile(path):
        raise ValueError(f'{path}: no such checkpoint file')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # pickle / zip errors of many types
        raise ValueError(f'{path}: cannot be loaded with torch.load(weights_only=True): '
                         f'{type(e).__name__}: {e}') from e
    if not isinstance(ckpt, dict):
        raise ValueError(f'{path}: expected a dict, got {type(ckpt).__name__}')
    return ckpt


def save_checkpoint_file(state_dict: Dict[str, torch.Tensor], meta: dict, path: str) -> None:
    """Write ``{'state_dict': state_dict, 'meta': meta}`` (the layout mmengine loads)."""
    dirname = osp.dirname(osp.abspath(path))
    if not osp.isdir(dirname):
        raise ValueError(f'{path}: folder {dirname} does not exist')
    torch.save({'state_dict': state_dict, 'meta': meta}, path)


def state_dict_of(ckpt: dict, source: str, field: str = 'state_dict') -> dict:
    """``ckpt[field]``, or ``ckpt`` itself when it is already a bare ``{name: tensor}`` dict."""
    if field in ckpt:
        state = ckpt[field]
        if not isinstance(state, dict):
            raise ValueError(f'{source}: {field!r} is a {type(state).__name__}, not a dict')
        return state
    if ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        return ckpt
    raise ValueError(f'{source}: no {field!r} in the checkpoint (top-level keys: '
                     f'{format_keys(map(str, ckpt))})')


def strip_module_prefix(state: Dict[str, torch.Tensor], source: str,
                        what: str = '') -> Dict[str, torch.Tensor]:
    """Remove the ``module.`` prefix of (Distributed)DataParallel: from every key or none.

    Args:
        state: The state dict.
        source: The file name, for the error message.
        what: Which part of the checkpoint (e.g. ``"state_dict['feat_model']"``), for the error.
    """
    prefixed = [k for k in state if k.startswith('module.')]
    if not prefixed:
        return dict(state)
    if len(prefixed) != len(state):
        plain = [k for k in state if not k.startswith('module.')]
        raise ValueError(f'{source}: {what + ": " if what else ""}some keys have the '
                         f"(Distributed)DataParallel prefix 'module.' and some do not; "
                         f'without it: {format_keys(plain)}')
    return {k[len('module.'):]: v for k, v in state.items()}


def _bn_keys(name: str) -> List[str]:
    return [f'{name}.{s}' for s in BN_SUFFIXES]


def resnet_key_names(stage_blocks: Tuple[int, ...], block: str) -> List[str]:
    """All state-dict keys of a torchvision-style ResNet trunk (no ``fc``)."""
    convs = 3 if block == 'Bottleneck' else 2
    keys = ['conv1.weight'] + _bn_keys('bn1')
    for i, num in enumerate(stage_blocks, start=1):
        for j in range(num):
            pre = f'layer{i}.{j}.'
            for c in range(1, convs + 1):
                keys += [f'{pre}conv{c}.weight'] + _bn_keys(f'{pre}bn{c}')
            # first block: stride 2 (stages 2-4) or 64 -> 256 channels (Bottleneck, stage 1)
            if j == 0 and (i > 1 or block == 'Bottleneck'):
                keys += [f'{pre}downsample.0.weight'] + _bn_keys(f'{pre}downsample.1')
    return keys


def resnet_layout(state: Dict[str, torch.Tensor], source: str, prefix: str = '') -> dict:
    """Infer the ResNet of a trunk state dict (keys without ``prefix``) from its keys.

    Returns:
        dict: ``block`` ('BasicBlock' / 'Bottleneck'), ``stage_blocks``, ``depth`` (None when
        torchvision / mmpretrain have no such depth, e.g. Kang et al.'s ResNet-10), ``groups`` and
        ``width_per_group`` (ResNeXt when ``groups > 1``).
    """
    counts = {}
    for key in state:
        parts = key.split('.')
        if len(parts) > 2 and parts[0] in ('layer1', 'layer2', 'layer3', 'layer4') \
                and parts[1].isdigit():
            stage = int(parts[0][-1])
            counts[stage] = max(counts.get(stage, 0), int(parts[1]) + 1)
    missing = [] if 'conv1.weight' in state else [prefix + 'conv1.weight']
    missing += [f'{prefix}layer{s}.0.conv1.weight' for s in range(1, 5) if s not in counts]
    if missing:
        raise ValueError(f'{source}: no ResNet trunk (conv1, layer1 ... layer4) under '
                         f'{prefix!r}: missing key(s) {format_keys(missing)}')
    block = 'Bottleneck' if any('.conv3.' in k for k in state) else 'BasicBlock'
    stage_blocks = tuple(counts[s] for s in range(1, 5))
    groups, width_per_group = 1, 64
    conv2 = state.get('layer1.0.conv2.weight')
    if block == 'Bottleneck' and conv2 is not None and conv2.dim() == 4 and conv2.shape[1] > 0:
        width = conv2.shape[0]  # planes * width_per_group / 64 * groups, planes = 64
        groups = max(int(width // conv2.shape[1]), 1)
        width_per_group = width // groups
    return dict(block=block, stage_blocks=stage_blocks,
                depth=RESNET_DEPTHS.get((block, stage_blocks)), groups=groups,
                width_per_group=width_per_group)


def check_resnet_keys(state: Dict[str, torch.Tensor], source: str, prefix: str = '',
                      layout: Optional[dict] = None) -> Tuple[dict, Dict[str, torch.Tensor]]:
    """Check that ``state`` (trunk keys without ``prefix``) is exactly one ResNet trunk.

    A missing ``num_batches_tracked`` (checkpoints of torch < 0.4.1) is filled with 0; any other
    missing key, or any key that is not part of the trunk, is a :class:`ValueError` naming the
    key(s) (with ``prefix``) and ``source``.

    Args:
        layout: Expect this layout (from :func:`resnet_layout`) instead of inferring one, e.g. to
            check the key encoder against the query encoder.

    Returns:
        tuple: the layout and the state dict (with any filled ``num_batches_tracked``).
    """
    if layout is None:
        layout = resnet_layout(state, source, prefix)
    expected = resnet_key_names(layout['stage_blocks'], layout['block'])
    state = dict(state)
    for key in expected:
        if key.endswith('.num_batches_tracked') and key not in state:
            state[key] = torch.tensor(0, dtype=torch.long)
    missing = [prefix + k for k in expected if k not in state]
    unknown = [prefix + k for k in state if k not in set(expected)]
    arch = describe_layout(layout)
    if unknown:
        raise ValueError(f'{source}: unknown key(s) for a {arch} trunk: {format_keys(unknown)}')
    if missing:
        raise ValueError(f'{source}: missing key(s) of a {arch} trunk: {format_keys(missing)}')
    return layout, state


def describe_layout(layout: dict) -> str:
    """``'ResNet-50'``, ``'ResNeXt-50 (32x4d)'``, ``'ResNet (BasicBlock, blocks (1, 1, 1, 1))'``."""
    if layout['depth'] is None:
        return f"ResNet ({layout['block']}, blocks {layout['stage_blocks']})"
    if layout['groups'] > 1:
        return f"ResNeXt-{layout['depth']} ({layout['groups']}x{layout['width_per_group']}d)"
    return f"ResNet-{layout['depth']}"


def backbone_config(layout: dict) -> Optional[dict]:
    """The mmpretrain backbone config that has this layout's keys and shapes (None if none)."""
    if layout['depth'] is None:
        return None
    if layout['groups'] > 1:
        return dict(type='ResNeXt', depth=layout['depth'], groups=layout['groups'],
                    width_per_group=layout['width_per_group'])
    return dict(type='ResNet', depth=layout['depth'])


def check_tensor(state: dict, key: str, source: str, dims: Optional[int] = None) -> torch.Tensor:
    """``state[key]`` as a tensor, optionally of ``dims`` dimensions; else a ValueError."""
    if key not in state:
        raise ValueError(f'{source}: missing key {key!r}')
    value = state[key]
    if not isinstance(value, torch.Tensor):
        raise ValueError(f'{source}: {key!r} is a {type(value).__name__}, not a tensor')
    if dims is not None and value.dim() != dims:
        raise ValueError(f'{source}: {key!r} has shape {tuple(value.shape)}, expected '
                         f'{dims} dimensions')
    return value
