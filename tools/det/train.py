# Copyright (c) OpenMMLab and mmlt contributors. All rights reserved.
"""Train a detector from an MMDetection config (``configs/det/``), with mmlt registered.

MMDetection's ``tools/train.py`` with mmlt's additions: ``--amp bf16`` (CPU and CUDA), CPU
distributed training with gloo (``python3 -m torch.distributed.run --nproc_per_node=N
tools/det/train.py CONFIG --launcher pytorch``), and
``mmlt`` / ``mmlt.det`` imported (datasets, metric, backbone, hooks, compat fixes). The Runner
uses the config's ``default_scope`` (``'mmdet'``). mmlt's ``tools/train.py`` is for MMPretrain
configs: it fills ``collate_fn=default_collate``, which stacks the images and fails as soon as
they differ in size (LVIS, COCO); mmdet configs rely on mmengine's ``pseudo_collate`` (a list,
padded by MMDetection's data preprocessor).

Examples:
    python3 tools/det/train.py configs/det/faster-rcnn_r18-cifar_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100.py
    python3 tools/det/train.py configs/det/faster-rcnn_r18-cifar_fpn_crt-cls_rfs-2e_tiny-imagenet-lt-r100.py \
        --cfg-options load_from=work_dirs/<stage-1 run>/epoch_4.pth
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmlt  # noqa: E402,F401  (registers mmlt's modules, applies compat fixes)
import mmlt.det  # noqa: E402,F401  (registers into mmdet's registries)
from mmlt.utils.setup_env import (adapt_cfg_to_device, init_cpu_dist,  # noqa: E402
                                  retain_freed_memory)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a detector (mmdet config)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or without a path from the latest checkpoint in '
        'the work directory')
    parser.add_argument(
        '--amp', nargs='?', const='fp16', choices=['fp16', 'bf16'],
        help='mixed precision: fp16 (default; CUDA, AmpOptimWrapper with loss scaling) or bf16 '
        '(CPU and CUDA, AutocastOptimWrapper)')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate checkpoints during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by actual / base batch size')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args) -> Config:
    """Merge the command line into the config (MMDetection's ``tools/train.py`` semantics)."""
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if args.amp == 'bf16':
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
        cfg.optim_wrapper.pop('loss_scale', None)
    elif args.amp == 'fp16':
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(field)
        if loader and loader.get('num_workers', 0) == 0:
            loader['persistent_workers'] = False  # a DataLoader refuses it without workers
    return adapt_cfg_to_device(cfg)


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    retain_freed_memory()  # no page faults on re-allocated activations (CPU)
    init_cpu_dist(cfg.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
