# Copyright (c) mmlt contributors. All rights reserved.
r"""Extract the backbone of an mmlt / mmpretrain checkpoint into a backbone-only checkpoint.

Usage::

    python tools/model_converters/extract_backbone.py \
        work_dirs/dscl_r50_imagenet-lt/epoch_200.pth dscl_r50_backbone.pth [--prefix backbone.]

Works for any checkpoint written by an mmengine Runner (``{'state_dict': ..., ...}``) or a bare
state dict: DSCL / CFRL (``backbone.*`` is the query encoder; the EMA key encoder
``encoder_k.module.0.*`` is left out, take it with ``--prefix encoder_k.module.0.``), a CE /
decoupled ``ImageClassifier``, a converted official checkpoint. The output is
``{'state_dict': {<keys with the prefix, prefix removed>}, 'meta': {...}}``, loadable by a
backbone's ``init_cfg=dict(type='Pretrained', checkpoint=DST)`` (no prefix), in mmpretrain,
mmdet or mmseg. A ``module.`` prefix (a checkpoint saved from a DDP wrapper) is removed first.

No key with the prefix is a :class:`ValueError` naming the file and the prefix.
"""
import argparse
import os.path as osp
import sys
from pathlib import Path
from typing import Dict, List, Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (format_keys, load_checkpoint_file, save_checkpoint_file,  # noqa: E402
                     state_dict_of, strip_module_prefix)


def convert(state_dict: Dict[str, torch.Tensor], prefix: str = 'backbone.',
            source: str = '<state_dict>') -> Dict[str, torch.Tensor]:
    """The entries of ``state_dict`` whose key starts with ``prefix``, with it removed.

    Args:
        state_dict: A model state dict (a ``module.`` prefix on every key is removed first).
        prefix: The backbone's prefix; a missing final ``.`` is added.
        source: The file name, for the error message.

    Raises:
        ValueError: no key has the prefix (the message names ``source`` and ``prefix``).
    """
    if not prefix:
        raise ValueError(f'{source}: empty --prefix')
    if not prefix.endswith('.'):
        prefix += '.'
    state = strip_module_prefix(state_dict, source)
    out = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not out:
        tops = sorted({k.split('.')[0] + '.' for k in state})
        raise ValueError(f'{source}: no key starts with the prefix {prefix!r}; the checkpoint '
                         f'has the prefixes {format_keys(tops)}')
    return out


def convert_file(src: str, dst: str, prefix: str = 'backbone.') -> dict:
    """Read ``src``, extract, write ``dst``; return the ``meta`` written."""
    ckpt = load_checkpoint_file(src)
    out = convert(state_dict_of(ckpt, src), prefix=prefix, source=src)
    src_meta = ckpt.get('meta') if isinstance(ckpt.get('meta'), dict) else {}
    meta = dict(
        converted_from=osp.abspath(src),
        converter='tools/model_converters/extract_backbone.py',
        prefix=prefix if prefix.endswith('.') else prefix + '.',
        num_keys=len(out),
        epoch=src_meta.get('epoch', ckpt.get('epoch')),
        iter=src_meta.get('iter'),
        cfg=src_meta.get('cfg'),
    )
    save_checkpoint_file(out, meta, dst)
    return meta


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Extract the backbone of an mmlt / mmpretrain checkpoint')
    parser.add_argument('src', help='checkpoint (e.g. work_dirs/.../epoch_200.pth)')
    parser.add_argument('dst', help='output backbone-only checkpoint')
    parser.add_argument('--prefix', default='backbone.',
                        help="prefix of the backbone's keys, removed in the output "
                        "(default 'backbone.')")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    meta = convert_file(args.src, args.dst, prefix=args.prefix)
    print(f"{args.src} -> {args.dst}: {meta['num_keys']} keys under {meta['prefix']!r}")
    return meta


if __name__ == '__main__':
    try:
        main()
    except ValueError as e:  # a bad checkpoint: the message names the file and key(s)
        sys.exit(f'error: {e}')
