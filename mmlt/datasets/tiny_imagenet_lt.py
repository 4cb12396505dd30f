# Copyright (c) mmlt contributors. All rights reserved.
"""Tiny-ImageNet-LT (Cao et al., LDAM-DRW, NeurIPS 2019)."""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .base import IMG_EXTENSIONS, LDAMSubsetMixin


def _read_wnids(root: str) -> List[str]:
    """Sorted wnids from ``wnids.txt`` (or the ``train/`` folders)."""
    path = osp.join(root, 'wnids.txt')
    if osp.isfile(path):
        with open(path, encoding='utf-8') as f:
            wnids = [line.strip() for line in f if line.strip()]
    elif osp.isdir(osp.join(root, 'train')):
        wnids = [
            e.name for e in os.scandir(osp.join(root, 'train')) if e.is_dir()
        ]
    else:
        raise FileNotFoundError(
            f'TinyImageNetLT: {root!r} has neither wnids.txt nor train/ '
            '(expected tiny-imagenet-200 with wnids.txt, '
            'train/<wnid>/images/*.JPEG, val/images/*.JPEG and '
            'val/val_annotations.txt)')
    if len(set(wnids)) != len(wnids):
        raise ValueError(f'{path}: duplicated wnids')
    return sorted(wnids)


def _read_words(root: str, wnids: List[str]) -> Optional[Dict[str, str]]:
    """``wnid -> words`` from ``words.txt`` if present."""
    path = osp.join(root, 'words.txt')
    if not osp.isfile(path):
        return None
    wanted = set(wnids)
    words = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            wnid, _, name = line.rstrip('\n').partition('\t')
            if wnid in wanted:
                words[wnid] = name.strip()
    return words


@DATASETS.register_module()
class TinyImageNetLT(LDAMSubsetMixin, BaseDataset):
    """Long-tailed Tiny-ImageNet built as in LDAM-DRW (Cao et al., 2019).

    Same construction as :class:`~mmlt.datasets.CIFAR10LT` over the 200
    wnids (class order = sorted wnids, as torchvision ``ImageFolder`` which
    LDAM-style code uses; files of a class in ``ImageFolder``'s sorted
    order): the training split keeps ``n_i = int(500 * (1 / imb_ratio) **
    (i / 199))`` images of class ``i`` (500 for the head, 5 for the tail at
    IR 100). Class names come from ``words.txt`` when present
    (``metainfo['wnids']`` keeps the wnids).

    Layout of ``data_root`` (``tiny-imagenet-200``): ``wnids.txt``,
    ``words.txt``, ``train/<wnid>/images/*.JPEG``, ``val/images/*.JPEG`` and
    ``val/val_annotations.txt``. Entries are ``dict(img_path, gt_label)``.

    Args:
        data_root (str): The ``tiny-imagenet-200`` folder.
        split (str): ``'train'``, ``'test'`` (the official val set, balanced,
            50 per class) or ``'val'`` (``val_per_class`` images per class
            drawn, seeded, from the official val set; ``'test'`` is then the
            rest of it).
        imb_ratio (float): Imbalance ratio (``>= 1``). Defaults to 100.
        imb_type (str): ``'exp'`` or ``'step'``. Defaults to ``'exp'``.
        seed (int): Seed of the sub-sampling and of the val draw.
            Defaults to 0.
        val_per_class (int): Size per class of ``'val'``. Defaults to 0.
        metainfo (dict, optional): Meta information. Defaults to None.
        data_prefix (str): Sub-folder of ``data_root``. Defaults to ''.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`.
    """

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 imb_ratio: float = 100,
                 imb_type: str = 'exp',
                 seed: int = 0,
                 val_per_class: int = 0,
                 metainfo: Optional[dict] = None,
                 data_prefix: str = '',
                 **kwargs):
        self._init_ldam_args(split, imb_ratio, imb_type, seed, val_per_class)
        root = osp.join(data_root, data_prefix)
        self.wnids = _read_wnids(root)
        words = _read_words(root, self.wnids)
        classes = tuple(
            words.get(w, w) for w in self.wnids) if words else tuple(
                self.wnids)
        defaults = {'wnids': self.wnids}
        if kwargs.get('classes') is None:  # an explicit `classes` wins
            defaults['classes'] = classes
        metainfo = {**defaults, **(metainfo or {})}
        super().__init__(
            ann_file='',
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(root=data_prefix),
            **kwargs)

    def _load_source(self, name: str) -> Tuple[List[str], np.ndarray]:
        """Return ``(paths, targets)`` of the official train / val set."""
        if name == 'train':
            return self._load_train()
        return self._load_val()

    def _load_train(self) -> Tuple[List[str], np.ndarray]:
        paths, targets = [], []
        for label, wnid in enumerate(self.wnids):
            img_dir = osp.join(self.root, 'train', wnid, 'images')
            if not osp.isdir(img_dir):
                raise FileNotFoundError(
                    f'TinyImageNetLT: missing {img_dir} (class {label} '
                    f'{wnid!r})')
            files = sorted(f for f in os.listdir(img_dir)
                           if f.lower().endswith(IMG_EXTENSIONS))
            paths.extend(osp.join(img_dir, f) for f in files)
            targets.extend([label] * len(files))
        return paths, np.asarray(targets, dtype=np.int64)

    def _load_val(self) -> Tuple[List[str], np.ndarray]:
        ann = osp.join(self.root, 'val', 'val_annotations.txt')
        if not osp.isfile(ann):
            raise FileNotFoundError(
                f'TinyImageNetLT: missing {ann} (expected lines '
                '"<file>\\t<wnid>\\t...")')
        to_label = {w: i for i, w in enumerate(self.wnids)}
        img_dir = osp.join(self.root, 'val', 'images')
        paths, targets = [], []
        with open(ann, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                parts = line.split('\t')
                if len(parts) < 2:
                    raise ValueError(f'{ann}:{lineno}: expected '
                                     f'"<file>\\t<wnid>...", got {line!r}')
                wnid = parts[1].strip()
                if wnid not in to_label:
                    raise ValueError(
                        f'{ann}:{lineno}: wnid {wnid!r} not in wnids.txt')
                paths.append(osp.join(img_dir, parts[0].strip()))
                targets.append(to_label[wnid])
        return paths, np.asarray(targets, dtype=np.int64)
