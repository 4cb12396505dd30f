# Copyright (c) OpenMMLab and mmlt contributors. All rights reserved.
"""Test (and evaluate) a checkpoint with an mmlt / MMPretrain config.

MMPretrain's ``tools/test.py`` with its options (``--out``, ``--out-item``, ``--show``,
``--show-dir``, ``--interval``, ``--wait-time``, ``--tta``, ``--amp``, ``--no-pin-memory``), and
mmlt's set-up: CPU / gloo for the ``pytorch`` launcher when CUDA is not available.

Unlike MMPretrain, ``--cfg-options`` are applied before ``--tta`` wraps the model, so ``model.*``
options refer to the classifier as written in the config (``model.head.tau=0.8``) and
``test_dataloader.dataset.pipeline`` options change the pipeline the flip TTA is built from.

Examples:
    python tools/test.py configs/decoupled/ncm_resnet32_cifar10-lt-r100.py ce/epoch_200.pth
    python tools/test.py CONFIG CHECKPOINT --tta --out preds.pkl
    python tools/test.py CONFIG CHECKPOINT --show-dir vis --interval 100
    tools/dist_test.sh CONFIG CHECKPOINT 2 --out metrics.json --out-item metrics
    GPUS=8 tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT --tta
"""
import argparse
import os
import os.path as osp
from copy import deepcopy

import mmengine
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmlt  # noqa: F401
from mmlt.utils.setup_env import (adapt_cfg_to_device, init_cpu_dist,
                                  retain_freed_memory,
                                  set_default_dataloader_cfg)


def parse_args(argv=None):
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
        help='override config settings, key=value pairs (applied before --tta wraps the model)')
    parser.add_argument(
        '--amp', action='store_true', help='test in mixed precision')
    parser.add_argument(
        '--show-dir',
        help='directory where the painted predictions are saved '
        '(<image name>_0.png; images of the same name overwrite each other)')
    parser.add_argument(
        '--show',
        action='store_true',
        help='display the predictions in a window')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='visualize every interval-th test sample (--show / --show-dir)')
    parser.add_argument(
        '--wait-time',
        type=float,
        default=2,
        help='display time of every window, in seconds (--show)')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='disable pin_memory in dataloaders')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test-time augmentation: the config\'s tta_model and tta_pipeline when it has '
        'them, otherwise the classification scores averaged over the image and its '
        'horizontal flip (AverageScoreTTA)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.out is None and args.out_item is not None:
        parser.error('--out-item needs --out')
    if args.interval < 1:
        parser.error(f'--interval must be a positive integer, got {args.interval}')
    if args.tta and (args.show or args.show_dir is not None):
        # VisualizationHook draws data_batch['inputs'][i] as one image; a TTA batch holds one
        # batch per augmentation there, so it would fail (or paint the wrong image).
        parser.error('--tta cannot be combined with --show / --show-dir: VisualizationHook '
                     'draws one image per sample, a TTA batch has one per augmentation')
    return args


def enable_visualization(cfg: Config, args) -> None:
    """Turn on ``default_hooks.visualization`` (MMPretrain's ``VisualizationHook``)."""
    vis = cfg.get('default_hooks', {}).get('visualization')
    if vis is None:
        raise ValueError(
            f'{args.config}: --show / --show-dir need a VisualizationHook in default_hooks; '
            "set default_hooks.visualization=dict(type='VisualizationHook') (MMPretrain's "
            'default_runtime.py, which configs/_base_/default_runtime.py inherits, has it)')
    vis.update(
        enable=True,
        show=args.show,
        wait_time=args.wait_time,
        out_dir=args.show_dir,
        interval=args.interval)


def apply_tta(cfg: Config) -> None:
    """Wrap the model into ``cfg.tta_model`` and test on ``cfg.tta_pipeline``.

    Without them in the config: mmlt's ``AverageScoreTTA`` (MMPretrain's
    ``AverageClsScoreTTA`` with the label of the averaged score) over the test pipeline with a
    horizontal flip (``prob=1``) and without it (``prob=0``) before its last (packing)
    transform, as MMPretrain does.
    """
    loader = cfg.get('test_dataloader')
    if not loader or 'pipeline' not in loader.get('dataset', {}):
        raise ValueError('--tta needs a test_dataloader whose dataset has a pipeline')
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(type='mmpretrain.AverageScoreTTA')
    if 'tta_pipeline' not in cfg:
        test_pipeline = loader.dataset.pipeline
        if not test_pipeline or 'Pack' not in str(test_pipeline[-1].get('type', '')):
            raise ValueError('--tta: the test pipeline must end with a packing transform '
                             '(PackInputs) to build the flip TTA from it, or set tta_pipeline')
        cfg.tta_pipeline = deepcopy(test_pipeline)
        cfg.tta_pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[
                [dict(type='RandomFlip', prob=1.),
                 dict(type='RandomFlip', prob=0.)],
                [test_pipeline[-1]],
            ])
    module = cfg.model
    tta_model = ConfigDict(**cfg.tta_model, module=module)
    if 'data_preprocessor' in module and 'data_preprocessor' not in tta_model:
        # BaseTTAModel gives the module the data_preprocessor it gets (the Runner passes the
        # top-level one): keep the module's own.
        tta_model.data_preprocessor = module.data_preprocessor
    cfg.model = tta_model
    loader.dataset.pipeline = cfg.tta_pipeline


def merge_args(cfg, args):
    """Merge the command line into the config (in place), ready for this machine."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.amp:
        cfg.test_cfg.fp16 = True
    if args.show or args.show_dir is not None:
        enable_visualization(cfg, args)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    # after --cfg-options, so that a num_workers=0 set there drops persistent_workers
    set_default_dataloader_cfg(cfg, 'test_dataloader', pin_memory=True)
    if args.no_pin_memory and cfg.get('test_dataloader'):
        cfg.test_dataloader.pin_memory = False
    if args.tta:
        apply_tta(cfg)
    return adapt_cfg_to_device(cfg)


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    retain_freed_memory()  # no page faults on re-allocated activations (CPU)
    init_cpu_dist(cfg.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    if args.out and args.out_item in ['pred', None]:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)
    return metrics


if __name__ == '__main__':
    main()
