# Copyright (c) OpenMMLab and mmlt contributors. All rights reserved.
"""Test (and evaluate) a detector checkpoint with an MMDetection config, mmlt registered.

The detection counterpart of ``tools/test.py`` (see ``tools/det/train.py`` for why detection has
its own tools). ``--out results.pkl`` also dumps the predictions (mmdet's ``DumpDetResults``),
``--metrics-out metrics.json`` the metrics.

Example:
    python3 tools/det/test.py configs/det/faster-rcnn_r18-cifar_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100.py \
        work_dirs/faster-rcnn_r18-cifar_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100/epoch_4.pth
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmlt  # noqa: E402,F401
import mmlt.det  # noqa: E402,F401
from mmlt.utils.setup_env import (adapt_cfg_to_device, init_cpu_dist,  # noqa: E402
                                  retain_freed_memory)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and eval) a detector (mmdet config)')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save metrics and logs')
    parser.add_argument('--out', help='dump the predictions to this pickle file')
    parser.add_argument('--metrics-out', help='write the evaluation metrics to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        parser.error('--out must be a .pkl / .pickle file')
    return args


def merge_args(cfg: Config, args) -> Config:
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    loader = cfg.get('test_dataloader')
    if loader and loader.get('num_workers', 0) == 0:
        loader['persistent_workers'] = False
    return adapt_cfg_to_device(cfg)


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    retain_freed_memory()  # no page faults on re-allocated activations (CPU)
    init_cpu_dist(cfg.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if args.out is not None:
        from mmdet.evaluation import DumpDetResults
        runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=args.out))
    metrics = runner.test()
    if args.metrics_out is not None:
        os.makedirs(osp.dirname(osp.abspath(args.metrics_out)), exist_ok=True)
        with open(args.metrics_out, 'w') as f:
            json.dump({k: float(v) if isinstance(v, (int, float)) else v
                       for k, v in metrics.items()}, f, indent=1)
    return metrics


if __name__ == '__main__':
    main()
