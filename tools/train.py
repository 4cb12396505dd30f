# Copyright (c) OpenMMLab and mmlt contributors. All rights reserved.
"""Train a model from an mmlt / MMPretrain config (MMPretrain's ``tools/train.py``, plus mmlt).

Examples:
    python tools/train.py configs/ce_resnet32_1xb128-200e_cifar10-lt-r100.py
    tools/dist_train.sh configs/dscl_r50_imagenet-lt.py 2 --amp bf16
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmlt  # noqa: F401  (registers mmlt's modules, applies compat fixes)
from mmlt.utils.setup_env import (adapt_cfg_to_device, init_cpu_dist,
                                  retain_freed_memory,
                                  set_default_dataloader_cfg)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or without a path from the '
        'latest checkpoint in the work directory')
    parser.add_argument(
        '--amp',
        nargs='?',
        const='fp16',
        choices=['fp16', 'bf16'],
        help='mixed precision: fp16 (default; CUDA, AmpOptimWrapper with loss scaling) or '
        'bf16 (CPU and CUDA, AutocastOptimWrapper)')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the backbone forward (TorchCompileHook)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by actual / base batch size')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='disable pin_memory in dataloaders')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='disable persistent_workers in dataloaders')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    """Merge CLI arguments into the config."""
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp == 'bf16':  # no loss scaling needed; CPU (AVX512-BF16 / AMX) and CUDA
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
        cfg.optim_wrapper.pop('loss_scale', None)
    elif args.amp == 'fp16':  # CUDA, with mmengine's dynamic loss scaler
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.compile:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [dict(type='TorchCompileHook')]

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True

    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        set_default_dataloader_cfg(
            cfg,
            field,
            pin_memory=not args.no_pin_memory,
            persistent_workers=not args.no_persistent_workers)

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return adapt_cfg_to_device(cfg)


def main():
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    retain_freed_memory()  # no page faults on re-allocated activations (CPU)
    init_cpu_dist(cfg.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
