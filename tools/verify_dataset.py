# Copyright (c) mmlt contributors. All rights reserved.
"""Open every image of a config's datasets once and list the ones a run would fail on.

    python tools/verify_dataset.py CONFIG [--splits train val test] [--num-workers 8]

Run it before a long training: every missing, empty, unreadable or truncated image is listed
with its list line (``list_file:line``) in one pass, instead of one at a time when the loader
reaches it hours into a run. Exits with status 1 when any image is bad. The datasets are built
as the config builds them (list parsing errors are reported the same way), without preloading.
"""
import argparse
import sys
from typing import List

from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope

import mmlt  # noqa: F401  (registers mmlt's datasets, applies compat fixes)
from mmlt.datasets.verify import verify_images


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--splits', nargs='+', default=['train', 'val', 'test'],
                        choices=['train', 'val', 'test'],
                        help='which dataloaders to check (default: all the config has)')
    parser.add_argument('--num-workers', type=int, default=None,
                        help="worker processes (default: each dataloader's num_workers)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs')
    return parser.parse_args(argv)


def dataset_cfgs(cfg: Config, splits: List[str]):
    """``(split, dataset config, num_workers)`` of each dataloader the config has (a
    dataset shared by two dataloaders is checked once)."""
    seen = []
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or not loader.get('dataset'):
            continue
        dataset = dict(loader.dataset)
        dataset.pop('preload', None)
        dataset.pop('verify', None)
        dataset['pipeline'] = []
        if dataset in seen:
            continue
        seen.append(dataset)
        yield split, dataset, loader.get('num_workers', 0)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    from mmpretrain.registry import DATASETS
    total_bad = 0
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        for split, dataset_cfg, workers in dataset_cfgs(cfg, args.splits):
            dataset = DATASETS.build(dataset_cfg)
            name = f'{split}: {type(dataset).__name__}'
            print(f'{name}: checking {len(dataset)} images')
            bad = verify_images(dataset, num_workers=args.num_workers
                                if args.num_workers is not None else workers)
            for b in bad:
                print(f'  {b}')
            print(f'{name}: {len(bad)} of {len(dataset)} images bad')
            total_bad += len(bad)
    return 1 if total_bad else 0


if __name__ == '__main__':
    sys.exit(main())
