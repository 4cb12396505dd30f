"""Runner set-up shared by ``tools/train.py`` and ``tools/test.py``.

MMEngine's ``pytorch`` launcher assumes CUDA (NCCL, ``torch.cuda.set_device`` and DDP with
``device_ids``). mmlt also runs distributed on CPU with the gloo backend, so that tests and
CPU-only machines exercise the same path as a GPU cluster.
"""
import ctypes
import os
import sys

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


# glibc mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
RETAIN_ENV = 'MMLT_RETAIN_FREED_MEMORY'


def retain_freed_memory() -> bool:
    """Keep freed memory in the process for reuse instead of handing it back to the kernel.

    glibc's malloc serves each block above its mmap threshold (32 MiB at most) with a fresh
    ``mmap`` and ``munmap``s it on free. A CPU training step allocates the same large activations
    every iteration (the 5,120 patch crops of a CFRL step at batch 256: 84 MB a feature map), so
    the kernel maps, zero-fills and page-faults every page of them again at every step. With
    ``M_MMAP_MAX = 0`` large blocks come from the heap too, and with a 2 GiB ``M_TRIM_THRESHOLD``
    the freed heap stays mapped, so the next step reuses it without faults (the CPU counterpart
    of PyTorch's CUDA caching allocator). The process keeps its peak heap for its lifetime.
    ``tools/train.py`` and ``tools/test.py`` call this first; ``docs/benchmarks.md`` has the
    measured gain.

    Set ``MMLT_RETAIN_FREED_MEMORY=0`` to keep glibc's defaults.

    Returns:
        bool: Whether both settings took effect (False off Linux, on a C library without
        ``mallopt`` (e.g. musl), or when turned off by the environment).
    """
    if os.environ.get(RETAIN_ENV, '1') == '0' or not sys.platform.startswith('linux'):
        return False
    try:
        mallopt = ctypes.CDLL('libc.so.6').mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1
