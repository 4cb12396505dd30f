# Copyright (c) mmlt contributors. All rights reserved.
r"""Convert a checkpoint of Kang et al.'s decoupling code to an mmpretrain ``ImageClassifier``.

Source: github.com/facebookresearch/classifier-balancing ("Decoupling Representation and
Classifier for Long-Tailed Recognition", ICLR 2020).

Usage::

    python tools/model_converters/kang_decoupling_to_mmpretrain.py \
        logs/ImageNet_LT/models/resnext50_uniform_e90/final_model_checkpoint.pth r50_kang.pth

The output ``{'state_dict', 'meta'}`` has the keys of an mmpretrain ``ImageClassifier`` with
``backbone=ResNet`` (or ``ResNeXt``), ``neck=GlobalAveragePooling`` and ``head=LinearClsHead``:
``backbone.*``, ``head.fc.weight``, ``head.fc.bias``; load it with ``load_from=DST`` or, for the
backbone alone, ``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='backbone.')``. The
script prints the matching backbone config (``meta['backbone_cfg']``).

Source layout (``run_networks.py``): ``final_model_checkpoint.pth`` holds ``state_dict_best``,
``latest_model_checkpoint.pth`` holds ``state_dict`` (``state_dict_best`` is used when both are
there); either is ``{'feat_model': ..., 'classifier': ...}``, the state dicts of the two
networks, each wrapped in ``nn.DataParallel`` (keys start with ``module.``; accepted without).

- ``feat_model`` (``models/ResNetFeature.py`` / ``ResNextFeature.py``): the torchvision names
  (``conv1``, ``bn1``, ``layerX.Y.convN`` / ``bnN``, ``layerX.Y.downsample.0`` / ``1``), so the
  keys map one to one; the ``fc_add`` (``use_fc``) and ``modulatedatt`` (``use_selfatt``) options
  have no mmpretrain counterpart and are refused. Their pooling is ``AvgPool2d(7, stride=1)``: the
  global average of ``GlobalAveragePooling`` for 224 px inputs (a 7x7 last map) only. Their
  ResNet-10 (one BasicBlock per stage) converts, but mmpretrain's ``ResNet`` has no depth 10.
- ``classifier``: ``DotProductClassifier`` (``fc.weight``, ``fc.bias``; also the cRT classifier)
  or the LWS classifier of ``models/TauNormClassifier.py`` (also ``scales``, logits
  ``fc(x) * scales``), which is folded exactly into the linear layer: ``W * s[:, None]``,
  ``b * s``. tau-normalisation is post hoc in their code (``tau_norm.py``), not in the
  checkpoint: use mmlt's ``TauNormHead`` / ``tools/tau_norm_sweep.py`` on the converted model.
  Other classifiers (cosine, meta-embedding, kNN) are refused.

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
                     strip_module_prefix)

NETWORKS = ('feat_model', 'classifier')
STATE_FIELDS = ('state_dict_best', 'state_dict')
CLASSIFIER_KEYS = ('fc.weight', 'fc.bias')
LWS_KEY = 'scales'
# options of their ResNet(Feature) that mmpretrain's ImageClassifier cannot express
_UNSUPPORTED = {'fc_add.': "use_fc=True (the extra 'fc_add' Linear + ReLU)",
                'modulatedatt.': "use_selfatt=True (the 'modulatedatt' attention layer)"}


def _feat_model(state: Dict[str, torch.Tensor], source: str):
    where = f"{source} ['feat_model']"
    for prefix, option in _UNSUPPORTED.items():
        found = [k for k in state if k.startswith(prefix)]
        if found:
            raise ValueError(f'{where}: unknown key(s) {format_keys(found)}: the feature model '
                             f'was trained with {option}, which an mmpretrain ImageClassifier '
                             'has no layer for')
    return check_resnet_keys(state, where)


def _classifier(state: Dict[str, torch.Tensor], feat_dim: int,
                source: str) -> Dict[str, torch.Tensor]:
    where = f"{source} ['classifier']"
    unknown = [k for k in state if k not in CLASSIFIER_KEYS + (LWS_KEY, )]
    if unknown:
        raise ValueError(f'{where}: unknown key(s) {format_keys(unknown)}; expected the '
                         f"DotProductClassifier's {', '.join(map(repr, CLASSIFIER_KEYS))} "
                         f'(and {LWS_KEY!r} of the LWS classifier)')
    weight = check_tensor(state, 'fc.weight', where, dims=2)
    bias = check_tensor(state, 'fc.bias', where, dims=1)
    num_classes = weight.shape[0]
    if weight.shape[1] != feat_dim:
        raise ValueError(f"{where}: 'fc.weight' has shape {tuple(weight.shape)}, but the feature "
                         f'model outputs {feat_dim} features')
    if bias.shape[0] != num_classes:
        raise ValueError(f"{where}: 'fc.bias' has shape {tuple(bias.shape)}, expected "
                         f'({num_classes},)')
    if LWS_KEY in state:
        scales = check_tensor(state, LWS_KEY, where, dims=1)
        if scales.shape[0] != num_classes:
            raise ValueError(f"{where}: {LWS_KEY!r} has shape {tuple(scales.shape)}, expected "
                             f'({num_classes},)')
        # LWS logits: (W x + b) * s = (s[:, None] * W) x + s * b
        weight = weight * scales[:, None].to(weight.dtype)
        bias = bias * scales.to(bias.dtype)
    return {'head.fc.weight': weight.clone(), 'head.fc.bias': bias.clone()}


def convert(state_dict: Dict[str, Dict[str, torch.Tensor]],
            source: str = '<state_dict>') -> Dict[str, torch.Tensor]:
    """Kang et al.'s ``{'feat_model': ..., 'classifier': ...}`` -> ImageClassifier state dict.

    Args:
        state_dict: ``checkpoint['state_dict_best']`` (or ``['state_dict']``): the two networks'
            state dicts, with or without the ``DataParallel`` prefix ``module.``.
        source: The file name, for the error messages.

    Raises:
        ValueError: an unknown or missing key, or a classifier that does not fit the features;
            the message names the key(s) and ``source``.
    """
    if not isinstance(state_dict, dict):
        raise ValueError(f'{source}: expected a dict with {NETWORKS}, got '
                         f'{type(state_dict).__name__}')
    unknown = [k for k in state_dict if k not in NETWORKS]
    if unknown:
        raise ValueError(f'{source}: unknown network(s) {format_keys(unknown)}; expected '
                         f"{', '.join(map(repr, NETWORKS))}")
    missing = [k for k in NETWORKS if k not in state_dict]
    if missing:
        raise ValueError(f'{source}: missing network(s) {format_keys(missing)}')
    feat = strip_module_prefix(state_dict['feat_model'], source, "'feat_model'")
    clf = strip_module_prefix(state_dict['classifier'], source, "'classifier'")
    _, trunk = _feat_model(feat, source)
    feat_dim = _last_channels(trunk)
    out = {f'backbone.{k}': v for k, v in trunk.items()}
    out.update(_classifier(clf, feat_dim, source))
    return out


def _last_channels(trunk: Dict[str, torch.Tensor]) -> int:
    """Output channels of layer4 (its last block's last BatchNorm)."""
    last = max(int(k.split('.')[1]) for k in trunk if k.startswith('layer4.'))
    bns = sorted(k for k in trunk if k.startswith(f'layer4.{last}.bn') and k.endswith('.weight'))
    return int(trunk[bns[-1]].shape[0])


def convert_file(src: str, dst: str) -> dict:
    """Read ``src``, convert, write ``dst``; return the ``meta`` written."""
    ckpt = load_checkpoint_file(src)
    field = next((f for f in STATE_FIELDS if f in ckpt), None)
    if field is None:
        raise ValueError(f"{src}: missing key 'state_dict_best' (final_model_checkpoint.pth) or "
                         f"'state_dict' (latest_model_checkpoint.pth); top-level keys: "
                         f'{format_keys(map(str, ckpt))}')
    out = convert(ckpt[field], source=f'{src} [{field!r}]')
    layout, _ = check_resnet_keys(
        {k[len('backbone.'):]: v for k, v in out.items() if k.startswith('backbone.')}, src)
    meta = dict(
        converted_from=osp.abspath(src),
        converter='tools/model_converters/kang_decoupling_to_mmpretrain.py',
        source_format='Kang et al. decoupling (github.com/facebookresearch/classifier-balancing)',
        source_field=field,
        epoch=ckpt.get('epoch'),
        best_epoch=ckpt.get('best_epoch'),
        lws_folded=LWS_KEY in strip_module_prefix(ckpt[field]['classifier'], src),
        backbone=describe_layout(layout),
        backbone_cfg=backbone_config(layout),
        num_classes=int(out['head.fc.weight'].shape[0]),
        in_channels=int(out['head.fc.weight'].shape[1]),
    )
    save_checkpoint_file(out, meta, dst)
    return meta


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Convert a checkpoint of Kang et al.'s classifier-balancing code to an "
        'mmpretrain ImageClassifier (ResNet + GlobalAveragePooling + LinearClsHead)')
    parser.add_argument('src', help='final_model_checkpoint.pth or latest_model_checkpoint.pth')
    parser.add_argument('dst', help='output checkpoint')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    meta = convert_file(args.src, args.dst)
    lws = ', LWS scales folded in' if meta['lws_folded'] else ''
    print(f"{args.src} -> {args.dst}: {meta['backbone']} + linear head "
          f"({meta['num_classes']} classes{lws})")
    if meta['backbone_cfg'] is None:
        print('note: no mmpretrain ResNet / ResNeXt depth has this layout')
    else:
        print(f"config: model.backbone = {meta['backbone_cfg']}, model.neck = "
              f"dict(type='GlobalAveragePooling'), model.head = dict(type='LinearClsHead', "
              f"num_classes={meta['num_classes']}, in_channels={meta['in_channels']})")
    return meta


if __name__ == '__main__':
    try:
        main()
    except ValueError as e:  # a bad checkpoint: the message names the file and key(s)
        sys.exit(f'error: {e}')
