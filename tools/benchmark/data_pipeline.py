"""Images/s of a config's training data pipeline on real images.

Builds the config's ``train_dataloader`` (dataset, sampler, collate and the
training pipeline, e.g. the stage-1 ``PBSDMultiView`` of a DSCL config) on a
subset of ``--num-images`` real images (every k-th image of the dataset's
list, so the long tail is kept) and iterates over it once for each
``num_workers`` in ``--workers``. Reports the wall time, images/s over the
whole pass, images/s after the first batch (worker start-up excluded) and
that rate per worker process.

``--dataset-from OTHER_CONFIG`` keeps CONFIG's pipeline, batch size,
sampler and collate but takes the dataset (type, root, split, annotation
file) from OTHER_CONFIG's ``train_dataloader``: e.g. the ResNet-50
ImageNet-LT pipeline (``RandomResizedCrop`` 224, 64 px patches) run on the
64x64 Tiny-ImageNet JPEGs when ImageNet is not available. Such numbers stand
for the augmentation work of ImageNet-sized views, not for JPEG decoding of
full-size ImageNet images (about 400x350 px, which is slower to decode).

Example::

    python tools/benchmark/data_pipeline.py \
        configs/dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py \
        --num-images 512 --workers 0 1 2
"""
import argparse
import copy
import sys
import time
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchmark_common as bench  # noqa: E402

_DATASET_KEYS = ('type', 'data_root', 'split', 'ann_file', 'data_prefix',
                 'imb_ratio', 'metainfo', 'with_label', 'indices')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='mmlt config (its train_dataloader)')
    parser.add_argument('--num-images', type=int, default=512)
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2],
                        help='num_workers values to measure')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='default: the config\'s')
    parser.add_argument('--dataset-from', default=None,
                        help='take the dataset (not the pipeline) from this '
                        'config\'s train_dataloader')
    parser.add_argument('--data-root', default=None,
                        help='override the dataset\'s data_root')
    parser.add_argument('--cold', action='store_true',
                        help='do not pre-read the image files (the first '
                        'pass then also measures disk reads)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch.set_num_threads in the main process '
                        '(default 1, as in DataLoader workers, so that '
                        'num_workers=0 runs the transforms like a worker)')
    parser.add_argument('--out', default=None,
                        help='also write the table to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys')
    return parser.parse_args(argv)


def subset_indices(dataset_cfg: dict, num: int) -> List[int]:
    """Every k-th index of the full dataset, ``num`` of them."""
    from mmpretrain.registry import DATASETS
    full = copy.deepcopy(dataset_cfg)
    full.pop('indices', None)
    full['pipeline'] = []
    length = len(DATASETS.build(full))
    if length == 0:
        raise ValueError(f'data_pipeline.py: dataset {full.get("type")} at '
                         f'{full.get("data_root")} is empty')
    step = max(length // num, 1)
    return list(range(0, length, step))[:num]


def loader_cfg(cfg, args) -> dict:
    """The train_dataloader to measure (dataset swapped / shrunk)."""
    loader = copy.deepcopy(cfg.train_dataloader.to_dict() if hasattr(
        cfg.train_dataloader, 'to_dict') else dict(cfg.train_dataloader))
    dataset = loader['dataset']
    if args.dataset_from:
        other = bench.load_config(args.dataset_from)
        source = other.train_dataloader.dataset
        dataset = {k: v for k, v in dataset.items()
                   if k not in _DATASET_KEYS}
        dataset.update({k: copy.deepcopy(source[k]) for k in _DATASET_KEYS
                        if k in source})
    if args.data_root:
        dataset['data_root'] = args.data_root
    dataset['indices'] = subset_indices(dataset, args.num_images)
    loader['dataset'] = dataset
    if args.batch_size:
        loader['batch_size'] = args.batch_size
    loader['persistent_workers'] = False
    loader['drop_last'] = False
    return loader


def warm_page_cache(dataset_cfg: dict) -> int:
    """Read every image file of the subset once (untimed), so that each
    measured pass reads from the page cache and the passes compare fairly.
    Returns the number of files read."""
    from mmpretrain.registry import DATASETS
    dataset = DATASETS.build({**dataset_cfg, 'pipeline': []})
    for i in range(len(dataset)):
        with open(dataset.get_data_info(i)['img_path'], 'rb') as f:
            f.read()
    return len(dataset)


def time_pass(loader) -> tuple:
    """(images, batches, total s, s until the first batch)."""
    start = time.perf_counter()
    first = None
    images = batches = 0
    first_images = 0
    for data in loader:
        batches += 1
        images += len(data['data_samples'])
        if first is None:
            first = time.perf_counter() - start
            first_images = images
    total = time.perf_counter() - start
    return images, batches, total, first, first_images


def describe_pipeline(pipeline) -> str:
    views = bench.find_transform(pipeline, 'PBSDMultiView')
    if views:
        size, num, patch = bench.view_geometry_from(views)
        return (f'PBSDMultiView: query + key views at {size} px, L = {num} '
                f'patches of {patch} px')
    return 'pipeline: ' + ', '.join(
        t.get('type', '?') for t in pipeline if isinstance(t, dict))


def run(args: argparse.Namespace) -> str:
    import mmcv
    import torch
    from mmengine.runner import Runner
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = bench.load_config(args.config, args.cfg_options)
    loader = loader_cfg(cfg, args)
    # as the Runner does: mp start method and OpenCV threads from env_cfg
    mp_cfg = dict(cfg.get('env_cfg', {}).get('mp_cfg', {}) or {})
    from mmengine.utils.dl_utils import set_multi_processing
    set_multi_processing(**mp_cfg)
    files = 0
    if not args.cold:
        files = warm_page_cache(loader['dataset'])
    machine = bench.machine_line('cpu')

    rows = []
    for workers in args.workers:
        this = copy.deepcopy(loader)
        this['num_workers'] = workers
        dataloader = Runner.build_dataloader(this, seed=0)
        images, batches, total, first, first_images = time_pass(dataloader)
        rest = total - first
        steady = ((images - first_images) / rest
                  if images > first_images and rest > 0 else None)
        rows.append([
            workers, images, batches, total, first, images / total, steady,
            steady / max(workers, 1) if steady else None
        ])
    table = bench.markdown_table([
        'num_workers', 'images', 'batches', 'total s', 'first batch s',
        'images/s (whole pass)', 'images/s (after first batch)',
        'images/s per worker (after first batch)'
    ], rows)

    dataset = dataloader.dataset
    first_img = mmcv.imread(dataset.get_data_info(0)['img_path'])
    header = (
        f'data pipeline: config {args.config}, dataset '
        f'{loader["dataset"]["type"]} from '
        f'{loader["dataset"].get("data_root")}'
        f'{" (dataset taken from " + args.dataset_from + ")" if args.dataset_from else ""}, '
        f'{len(dataset)} real images (every k-th of the list), source image '
        f'{first_img.shape[1]}x{first_img.shape[0]} px (first one), '
        f'batch {loader["batch_size"]}, '
        f'{"files pre-read into the page cache, " if files else "cold page cache, "}'
        f'OpenCV threads {mp_cfg.get("opencv_num_threads", "default")}, '
        f'{describe_pipeline(loader["dataset"]["pipeline"])}, CPU\n'
        f'{machine}\n')
    return bench.emit(header + '\n' + table, args.out)


def main(argv: Optional[List[str]] = None) -> str:
    return run(parse_args(argv))


if __name__ == '__main__':
    main()
