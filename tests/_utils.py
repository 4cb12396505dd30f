"""Helpers for the end-to-end tests: small real configs built from the project's configs."""
from pathlib import Path

from mmengine.config import Config

REPO = Path(__file__).resolve().parents[1]


def small_cfg(config: str, work_dir, data_root, *, num_images: int = 256, batch_size: int = 32,
              max_epochs: int = 2, train_pipeline=None, checkpoint_interval=None) -> Config:
    """Load ``configs/<config>`` and shrink it to a short CPU run on a spread subset of real images.

    The training subset takes every k-th image of the long-tailed list, so it keeps the imbalance.
    Validation runs on the same number of test images.
    """
    cfg = Config.fromfile(str(REPO / 'configs' / config))
    cfg.work_dir = str(work_dir)
    cfg.launcher = 'none'
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if not loader:
            continue
        loader.dataset.data_root = str(data_root)
        loader.batch_size = batch_size
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.train_dataloader.dataset.indices = _spread(cfg.train_dataloader.dataset, num_images)
    if cfg.get('val_dataloader'):
        cfg.val_dataloader.dataset.indices = _spread(cfg.val_dataloader.dataset, num_images)
        cfg.test_dataloader = cfg.val_dataloader
    if train_pipeline is not None:
        cfg.train_dataloader.dataset.pipeline = train_pipeline
    cfg.train_cfg.max_epochs = max_epochs
    cfg.train_cfg.val_interval = max_epochs
    cfg.param_scheduler = []
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(
        type='AtomicCheckpointHook',
        interval=checkpoint_interval or max_epochs,
        by_epoch=checkpoint_interval is None)
    cfg.randomness = dict(seed=0, deterministic=True)
    return cfg


def _spread(dataset_cfg, num: int):
    """Indices of every k-th item of the full dataset (built once, lazily, to count it)."""
    from mmpretrain.registry import DATASETS
    full = dict(dataset_cfg)
    full.pop('indices', None)
    full.pop('preload', None)  # counting needs no decoded image
    full['pipeline'] = []
    n = len(DATASETS.build(full))
    step = max(n // num, 1)
    return list(range(0, n, step))[:num]
