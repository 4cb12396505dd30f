"""Runner set-up shared by ``tools/train.py`` and ``tools/test.py``.

MMEngine's ``pytorch`` launcher assumes CUDA (NCCL, ``torch.cuda.set_device`` and DDP with
``device_ids``). mmlt also runs distributed on CPU with the gloo backend, so that tests and
CPU-only machines exercise the same path as a GPU cluster.
"""
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, ConfigDict


def adapt_cfg_to_device(cfg: Config) -> Config:
    """Make a config run where it is: gloo and CPU DDP when CUDA is not available.

    Args:
        cfg (Config): The full config (``launcher`` already set).

    Returns:
        Config: The same config, modified in place.
    """
    if torch.cuda.is_available():
        return cfg
    env_cfg = cfg.setdefault('env_cfg', ConfigDict())
    dist_cfg = env_cfg.setdefault('dist_cfg', ConfigDict())
    dist_cfg['backend'] = 'gloo'
    if cfg.get('launcher', 'none') != 'none':
        wrapper = cfg.get('model_wrapper_cfg') or ConfigDict(
            type='MMDistributedDataParallel',
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        # DDP rejects device_ids for CPU modules; mmengine passes LOCAL_RANK unless set.
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(field):
            cfg[field]['pin_memory'] = False  # nothing to pin for
    return cfg


def init_cpu_dist(launcher: str) -> None:
    """Start a gloo process group for the ``pytorch`` launcher when CUDA is unavailable.

    MMEngine's ``init_dist`` would call ``torch.cuda.set_device``; once a group exists the Runner
    uses it as it is.
    """
    if launcher != 'pytorch' or torch.cuda.is_available():
        return
    if torch_dist.is_available() and not torch_dist.is_initialized():
        torch_dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))


def set_default_dataloader_cfg(cfg: Config, field: str, **defaults) -> None:
    """Fill dataloader defaults (as MMPretrain's tools do) without breaking ``num_workers=0``."""
    if cfg.get(field, None) is None:
        return
    loader = ConfigDict(collate_fn=dict(type='default_collate'), **defaults)
    loader.update(cfg[field])
    if loader.get('num_workers', 0) == 0:
        loader['persistent_workers'] = False
    cfg[field] = loader
