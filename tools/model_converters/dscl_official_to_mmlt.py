# Copyright (c) mmlt contributors. All rights reserved.
r"""Convert a checkpoint of the official DSCL + PBSD code (github.com/SY-Xuan/DSCL) to mmlt.

Usage::

    # the whole stage-1 model: query + key encoders and the labelled queue, for mmlt's DSCL
    # (configs/dscl/dscl-pbsd_r50_2xb128-coslr-200e_imagenet-lt.py); load it with load_from=DST
    python tools/model_converters/dscl_official_to_mmlt.py checkpoint.pth.tar dscl_mmlt.pth

    # the query encoder's ResNet only, keys without prefix: for init_cfg=dict(type='Pretrained',
    # checkpoint=DST) of an mmpretrain / mmdet ResNet backbone (e.g. a stage-2 linear classifier)
    python tools/model_converters/dscl_official_to_mmlt.py checkpoint.pth.tar r50.pth \
        --backbone-only

Source layout (``main.py`` saves ``{'epoch', 'arch', 'state_dict', 'optimizer'}``, the state dict
of the ``DistributedDataParallel`` model, so every key starts with ``module.``; keys without it are
accepted too):

- ``encoder_q.*`` / ``encoder_k.*``: torchvision ResNet (``--arch``, ResNet-50 by default) whose
  ``fc`` is the MoCo v2 projection ``Sequential(Linear(C, C), ReLU, Linear(C, dim))``
  (``fc.0.*``, ``fc.2.*``);
- ``queue`` (dim, K) float, the L2-normalised keys as columns; ``main_label_queue`` (1, K) long;
  ``queue_ptr`` (1,) long, the next write position.

Target (mmlt ``DSCL``): ``backbone.*`` (mmpretrain ``ResNet``: the same names as torchvision
without ``fc``), ``neck.mlp.{0,2}.*`` (``MoCoV2Neck``), ``encoder_k.module.0.*`` /
``encoder_k.module.1.mlp.{0,2}.*`` (the EMA key encoder), ``encoder_k.steps``, ``queue.feats``
(K, dim), ``queue.labels`` (K,), ``queue.ptr`` (1,), ``queue.num_filled`` (1,).

The official queue is never empty: it starts with K random unit vectors and random labels that
stay until overwritten, so all K entries are used (``num_filled = K``). The converted model's
``queue_len`` / ``feat_dim`` must match K and dim (65536 and 128 in the paper's recipe); the
converter prints them.

Any key the converter does not know, or a missing one, is a :class:`ValueError` naming the key(s)
and the file.
"""
import argparse
import os.path as osp
import sys
from pathlib import Path
from typing import Dict, List, Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (backbone_config, check_resnet_keys, check_tensor,  # noqa: E402
                     describe_layout, format_keys, load_checkpoint_file, save_checkpoint_file,
                     state_dict_of, strip_module_prefix)

ENCODERS = ('encoder_q', 'encoder_k')
QUEUE_KEYS = ('queue', 'main_label_queue', 'queue_ptr')
MLP_KEYS = ('fc.0.weight', 'fc.0.bias', 'fc.2.weight', 'fc.2.bias')

# mmengine's ExponentialMovingAverage copies the source model into the average (instead of
# averaging) when its ``steps`` buffer is 0, i.e. at its very first update. A converted key encoder
# is a trained average that must keep being averaged: any positive ``steps`` makes the next update
# an EMA step. (mmengine's plain EMA does not otherwise depend on the value.)
EMA_STEPS = 1


def _split(state: Dict[str, torch.Tensor], source: str) -> Dict[str, Dict[str, torch.Tensor]]:
    """Split the (unwrapped) official state dict into the two encoders and the queue buffers."""
    parts = {enc: {} for enc in ENCODERS}
    parts['queue'] = {}
    unknown = []
    for key, value in state.items():
        enc, _, rest = key.partition('.')
        if enc in ENCODERS and rest:
            parts[enc][rest] = value
        elif key in QUEUE_KEYS:
            parts['queue'][key] = value
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(f'{source}: unknown key(s) for an official DSCL checkpoint (expected '
                         f"'encoder_q.*', 'encoder_k.*', {', '.join(map(repr, QUEUE_KEYS))}): "
                         f'{format_keys(unknown)}')
    return parts


def _encoder(enc_state: Dict[str, torch.Tensor], enc: str, source: str,
             layout: Optional[dict] = None):
    """Check one encoder: a ResNet trunk and the MLP ``fc``; return (layout, trunk, mlp)."""
    trunk = {k: v for k, v in enc_state.items() if not k.startswith('fc.')}
    head = {k: v for k, v in enc_state.items() if k.startswith('fc.')}
    unknown = [f'{enc}.{k}' for k in head if k not in MLP_KEYS]
    if unknown:
        raise ValueError(f'{source}: unknown key(s) {format_keys(unknown)}; the DSCL projection '
                         f"is fc = Sequential(Linear, ReLU, Linear): keys "
                         f"{', '.join(f'{enc}.{k}' for k in MLP_KEYS)}")
    missing = [f'{enc}.{k}' for k in MLP_KEYS if k not in head]
    if missing:
        raise ValueError(f'{source}: missing key(s) {format_keys(missing)}')
    layout, trunk = check_resnet_keys(trunk, source, prefix=f'{enc}.', layout=layout)
    return layout, trunk, head


def _queue(queue_state: Dict[str, torch.Tensor], feat_dim: int,
           source: str) -> Dict[str, torch.Tensor]:
    """The official queue buffers as mmlt's LabeledQueue buffers."""
    queue = check_tensor(queue_state, 'queue', source, dims=2)
    labels = check_tensor(queue_state, 'main_label_queue', source)
    ptr = check_tensor(queue_state, 'queue_ptr', source)
    dim, length = queue.shape
    if dim != feat_dim:
        raise ValueError(f"{source}: 'queue' has shape {tuple(queue.shape)} (dim, K) but the "
                         f"projection 'encoder_q.fc.2.weight' outputs {feat_dim} features")
    if labels.numel() != length or (labels.dim() == 2 and labels.shape[0] != 1) \
            or labels.dim() > 2:
        raise ValueError(f"{source}: 'main_label_queue' has shape {tuple(labels.shape)}, "
                         f"expected (1, {length}) for a queue of K = {length}")
    if labels.is_floating_point():
        raise ValueError(f"{source}: 'main_label_queue' holds {labels.dtype}, not class ids")
    if ptr.numel() != 1:
        raise ValueError(f"{source}: 'queue_ptr' has shape {tuple(ptr.shape)}, expected (1,)")
    pos = int(ptr.reshape(-1)[0])
    if not 0 <= pos < length:
        raise ValueError(f"{source}: 'queue_ptr' is {pos}, outside [0, {length})")
    return {
        'queue.feats': queue.t().contiguous().float(),
        'queue.labels': labels.reshape(-1).long().clone(),
        'queue.ptr': torch.tensor([pos], dtype=torch.long),
        # the official queue is full from the start (random entries), see the module docstring
        'queue.num_filled': torch.tensor([length], dtype=torch.long),
    }


def convert(state_dict: Dict[str, torch.Tensor], backbone_only: bool = False,
            source: str = '<state_dict>') -> Dict[str, torch.Tensor]:
    """Official DSCL state dict (``checkpoint['state_dict']``) -> mmlt ``DSCL`` state dict.

    Args:
        state_dict: The official state dict, with or without the ``module.`` prefix.
        backbone_only: Return only the query encoder's ResNet, keys without prefix.
        source: The file name, for the error messages.

    Returns:
        dict: The mmlt state dict (or the backbone's, with ``backbone_only``).

    Raises:
        ValueError: an unknown or missing key, or a queue of the wrong shape; the message names
            the key(s) and ``source``.
    """
    state = strip_module_prefix(state_dict, source)
    parts = _split(state, source)
    for enc in ENCODERS:
        if not parts[enc]:
            raise ValueError(f"{source}: missing key(s) '{enc}.*' (no {enc} in the checkpoint)")
    layout, trunk_q, mlp_q = _encoder(parts['encoder_q'], 'encoder_q', source)
    if backbone_only:
        # the key encoder and the queue are still checked, so a broken file is not half-read
        _encoder(parts['encoder_k'], 'encoder_k', source, layout=layout)
        _queue(parts['queue'], mlp_q['fc.2.weight'].shape[0], source)
        return dict(trunk_q)
    _, trunk_k, mlp_k = _encoder(parts['encoder_k'], 'encoder_k', source, layout=layout)

    out = {}
    out.update({f'backbone.{k}': v for k, v in trunk_q.items()})
    out.update({f'neck.mlp.{k[len("fc."):]}': v for k, v in mlp_q.items()})
    out.update({f'encoder_k.module.0.{k}': v for k, v in trunk_k.items()})
    out.update({f'encoder_k.module.1.mlp.{k[len("fc."):]}': v for k, v in mlp_k.items()})
    out['encoder_k.steps'] = torch.tensor(EMA_STEPS, dtype=torch.long)
    out.update(_queue(parts['queue'], mlp_q['fc.2.weight'].shape[0], source))
    return out


def convert_file(src: str, dst: str, backbone_only: bool = False) -> dict:
    """Read ``src``, convert, write ``dst``; return the ``meta`` written."""
    ckpt = load_checkpoint_file(src)
    state = state_dict_of(ckpt, src)
    out = convert(state, backbone_only=backbone_only, source=src)
    trunk = {k[len('backbone.'):]: v for k, v in out.items() if k.startswith('backbone.')} \
        if not backbone_only else out
    layout, _ = check_resnet_keys(trunk, src)
    meta = dict(
        converted_from=osp.abspath(src),
        converter='tools/model_converters/dscl_official_to_mmlt.py',
        source_format='official DSCL (github.com/SY-Xuan/DSCL)',
        content='query encoder ResNet (backbone only)' if backbone_only else 'mmlt DSCL',
        arch=ckpt.get('arch'),
        epoch=ckpt.get('epoch'),
        backbone=describe_layout(layout),
        backbone_cfg=backbone_config(layout),
    )
    if not backbone_only:
        meta.update(queue_len=int(out['queue.feats'].shape[0]),
                    feat_dim=int(out['queue.feats'].shape[1]),
                    hid_channels=int(out['neck.mlp.0.weight'].shape[0]),
                    in_channels=int(out['neck.mlp.0.weight'].shape[1]))
    save_checkpoint_file(out, meta, dst)
    return meta


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert an official DSCL + PBSD checkpoint (SY-Xuan/DSCL) to mmlt')
    parser.add_argument('src', help="official checkpoint (e.g. checkpoint.pth.tar)")
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument('--backbone-only', action='store_true',
                        help='write only the query encoder ResNet, keys without prefix (for '
                        "init_cfg=dict(type='Pretrained', checkpoint=DST) of a ResNet)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    meta = convert_file(args.src, args.dst, backbone_only=args.backbone_only)
    print(f"{args.src} -> {args.dst}: {meta['content']}, {meta['backbone']}"
          + ('' if args.backbone_only else
             f", queue K = {meta['queue_len']}, feat_dim = {meta['feat_dim']}"))
    if meta['backbone_cfg'] is None:
        print('note: no mmpretrain ResNet / ResNeXt depth has this layout')
    elif not args.backbone_only:
        print(f"mmlt config: model.backbone = {meta['backbone_cfg']} (+ out_indices=(3, )), "
              f"model.queue_len={meta['queue_len']}, model.feat_dim={meta['feat_dim']}, "
              f"model.neck.in_channels={meta['in_channels']}, "
              f"model.neck.hid_channels={meta['hid_channels']}")
    return meta


if __name__ == '__main__':
    try:
        main()
    except ValueError as e:  # a bad checkpoint: the message names the file and key(s)
        sys.exit(f'error: {e}')
