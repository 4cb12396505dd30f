# Copyright (c) OpenMMLab and mmlt contributors. All rights reserved.
"""Test (and evaluate) a checkpoint with an mmlt / MMPretrain config.

Example:
    python tools/test.py configs/crt_resnet32_1xb128-10e_cifar10-lt-r100.py work_dirs/crt/epoch_10.pth
"""
import argparse
import os
import os.path as osp

import mmengine
from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmlt  # noqa: F401
from mmlt.utils.setup_env import (adapt_cfg_to_device, init_cpu_dist,
                                  set_default_dataloader_cfg)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save metrics and logs')
    parser.add_argument('--out', help='the file to output results')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help='whether --out gets metrics or predictions (default)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    parser.add_argument(
        '--amp', action='store_true', help='test in mixed precision')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='disable pin_memory in dataloaders')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.out is None and args.out_item is not None:
        parser.error('--out-item needs --out')
    return args


def merge_args(cfg, args):
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.amp:
        cfg.test_cfg.fp16 = True
    set_default_dataloader_cfg(
        cfg, 'test_dataloader', pin_memory=not args.no_pin_memory)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return adapt_cfg_to_device(cfg)


def main():
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    init_cpu_dist(cfg.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    if args.out and args.out_item in ['pred', None]:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)


if __name__ == '__main__':
    main()
