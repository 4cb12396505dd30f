# Copyright (c) mmlt contributors. All rights reserved.
"""CIFAR-10-LT and CIFAR-100-LT (Cao et al., LDAM-DRW, NeurIPS 2019)."""
import os
import os.path as osp
import pickle
from typing import List, Optional, Tuple, Union

import mmengine.dist as dist
import numpy as np
from mmpretrain.datasets import CIFAR10, CIFAR100, BaseDataset
from mmpretrain.datasets.categories import (CIFAR10_CATEGORIES,
                                            CIFAR100_CATEGORIES)
from mmpretrain.datasets.utils import download_and_extract_archive
from mmpretrain.registry import DATASETS

from .base import IMG_EXTENSIONS, LDAMSubsetMixin, natural_key


@DATASETS.register_module()
class CIFAR10LT(LDAMSubsetMixin, BaseDataset):
    """Long-tailed CIFAR-10 built as in LDAM-DRW (Cao et al., 2019).

    The training split keeps, for class ``i`` of ``C``,
    ``n_i = int(img_max * (1 / imb_ratio) ** (i / (C - 1)))`` images
    (``'exp'``; ``'step'``: ``img_max`` for the first half of the classes,
    ``int(img_max / imb_ratio)`` for the rest) with ``img_max = len(train) /
    C``, chosen by LDAM-DRW's random stream (``np.random.seed(seed)`` once,
    then per class ``shuffle(where(targets == c))[:n_c]``), reproduced with
    a local ``RandomState``. IR 100 gives 12,406 images,
    ``[5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]``.
    The test split stays balanced.

    Two source layouts under ``data_root`` are detected:

    * the pickle release ``cifar-10-batches-py/`` (as
      :class:`mmpretrain.datasets.CIFAR10`): entries ``dict(img, gt_label)``
      with ``img`` an ``HxWx3`` uint8 array in the file's **RGB** order,
      exactly like mmpretrain's CIFAR10 (its configs use
      ``data_preprocessor.to_rgb=False``);
    * a folder release ``<data_root>/<split>/<class_name>/<image>``:
      entries ``dict(img_path, gt_label)`` to load with
      ``LoadImageFromFile`` (**BGR**, so use ``to_rgb=True``); classes in
      CIFAR's canonical order, files in natural (numeric) order.

    Args:
        data_root (str): Root of the data (see the layouts above).
        split (str): ``'train'``, ``'test'`` or ``'val'``. ``'val'`` is
            ``val_per_class`` images per class drawn (seeded) from the
            official test set; ``'test'`` is then the rest of it.
        imb_ratio (float): Imbalance ratio ``n_max / n_min`` (``>= 1``,
            1 = balanced). Defaults to 100.
        imb_type (str): ``'exp'`` or ``'step'``. Defaults to ``'exp'``.
        seed (int): Seed of the sub-sampling (LDAM-DRW's ``rand_number``)
            and of the val draw. Defaults to 0.
        val_per_class (int): Size per class of the ``'val'`` hold-out.
            Defaults to 0 (no hold-out; ``'test'`` = the full test set).
        download (bool): Download, md5-check and extract :attr:`url` when
            neither layout is found. Defaults to False.
        metainfo (dict, optional): Meta information. Defaults to None.
        data_prefix (str): Sub-folder of ``data_root``. Defaults to ''.
        test_mode (bool): See :class:`mmpretrain.datasets.BaseDataset`.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``lazy_init``, ...).
    """

    base_folder = CIFAR10.base_folder
    url = CIFAR10.url
    filename = CIFAR10.filename
    tgz_md5 = CIFAR10.tgz_md5
    train_list = [name for name, _ in CIFAR10.train_list]
    test_list = [name for name, _ in CIFAR10.test_list]
    label_key = 'labels'
    METAINFO = {'classes': CIFAR10_CATEGORIES}

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 imb_ratio: float = 100,
                 imb_type: str = 'exp',
                 seed: int = 0,
                 val_per_class: int = 0,
                 download: bool = False,
                 metainfo: Optional[dict] = None,
                 data_prefix: str = '',
                 test_mode: bool = False,
                 **kwargs):
        self._init_ldam_args(split, imb_ratio, imb_type, seed, val_per_class)
        if not data_root and not data_prefix:
            raise ValueError(f'{self.__class__.__name__}: set `data_root`')
        self.download = download
        super().__init__(
            ann_file='',
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(root=data_prefix),
            test_mode=test_mode,
            **kwargs)

    # ----------------------------------------------------------- sources
    def _pickle_files(self) -> List[str]:
        return [
            osp.join(self.root, self.base_folder, name)
            for name in self.train_list + self.test_list
        ]

    def _source_format(self) -> str:
        """``'pickle'`` or ``'folder'``; downloads the archive if allowed."""
        if all(osp.isfile(f) for f in self._pickle_files()):
            return 'pickle'
        if osp.isdir(osp.join(self.root, 'train')):
            return 'folder'
        if self.download:
            if dist.is_main_process():
                download_and_extract_archive(
                    self.url, self.root, filename=self.filename,
                    md5=self.tgz_md5)
            dist.barrier()
            missing = [f for f in self._pickle_files() if not osp.isfile(f)]
            if missing:
                raise FileNotFoundError(
                    f'{self.url} was extracted into {self.root} but '
                    f'{missing} are missing')
            return 'pickle'
        missing = [f for f in self._pickle_files() if not osp.isfile(f)]
        raise FileNotFoundError(
            f'{self.__class__.__name__}: no CIFAR release in {self.root!r}. '
            f'Expected the pickle release {self.base_folder}/ '
            f'({", ".join(self.train_list + self.test_list)}; missing '
            f'{missing[0]}) or a folder release train/<class_name>/<image> '
            'and test/<class_name>/<image>; or pass download=True.')

    def _load_source(self, name: str) -> Tuple[Union[np.ndarray, List[str]],
                                               np.ndarray]:
        """Return ``(items, targets)`` of the official ``name`` set."""
        if self._source_format() == 'pickle':
            return self._load_pickle(name)
        return self._load_folder(name)

    def _load_pickle(self, name: str) -> Tuple[np.ndarray, np.ndarray]:
        files = self.train_list if name == 'train' else self.test_list
        imgs, targets = [], []
        for file_name in files:
            path = osp.join(self.root, self.base_folder, file_name)
            with open(path, 'rb') as f:
                entry = pickle.load(f, encoding='latin1')
            labels = np.asarray(entry[self.label_key], dtype=np.int64)
            bad = np.flatnonzero((labels < 0) | (labels >= self.num_classes))
            if len(bad):
                raise ValueError(
                    f'{path}: label {labels[bad[0]]} of image {bad[0]} '
                    f'outside [0, {self.num_classes})')
            imgs.append(entry['data'])
            targets.append(labels)
        # Same layout as mmpretrain.datasets.CIFAR10: CHW planes -> HWC.
        imgs = imgs[0] if len(imgs) == 1 else np.vstack(imgs)
        imgs = imgs.reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        return imgs, np.concatenate(targets)

    def _load_folder(self, name: str) -> Tuple[List[str], np.ndarray]:
        split_dir = osp.join(self.root, name)
        if not osp.isdir(split_dir):
            raise FileNotFoundError(
                f'{self.__class__.__name__}: folder release in {self.root!r} '
                f'has no {name}/ directory (expected {name}/<class_name>/'
                '<image>)')
        classes = list(self._metainfo['classes'])
        found = sorted(e.name for e in os.scandir(split_dir) if e.is_dir())
        if set(found) != set(classes):
            missing = sorted(set(classes) - set(found))
            extra = sorted(set(found) - set(classes))
            raise ValueError(
                f'{split_dir}: class folders do not match the '
                f'{len(classes)} CIFAR classes (missing {missing[:10]}, '
                f'unexpected {extra[:10]})')
        paths, targets = [], []
        for label, cls in enumerate(classes):
            cls_dir = osp.join(split_dir, cls)
            files = sorted((f for f in os.listdir(cls_dir)
                            if f.lower().endswith(IMG_EXTENSIONS)),
                           key=natural_key)
            paths.extend(osp.join(cls_dir, f) for f in files)
            targets.extend([label] * len(files))
        return paths, np.asarray(targets, dtype=np.int64)


@DATASETS.register_module()
class CIFAR100LT(CIFAR10LT):
    """Long-tailed CIFAR-100 built as in LDAM-DRW (Cao et al., 2019).

    Same construction and arguments as :class:`CIFAR10LT`, over the 100 fine
    labels (pickle release ``cifar-100-python/{train,test}``, or a folder
    release with CIFAR-100's fine class names). IR 100 keeps 10,847 images
    (``n_0 = 500``, ``n_99 = 5``).
    """

    base_folder = CIFAR100.base_folder
    url = CIFAR100.url
    filename = CIFAR100.filename
    tgz_md5 = CIFAR100.tgz_md5
    train_list = [name for name, _ in CIFAR100.train_list]
    test_list = [name for name, _ in CIFAR100.test_list]
    label_key = 'fine_labels'
    METAINFO = {'classes': CIFAR100_CATEGORIES}
