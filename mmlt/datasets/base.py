# Copyright (c) mmlt contributors. All rights reserved.
"""Shared machinery of the long-tailed datasets.

* :class:`LTDatasetMixin` gives every LT dataset ``get_class_counts()``,
  the ``class_counts`` entry of ``metainfo`` (the TRAINING split's per-class
  counts, for any split) and a ``prepare_data`` whose errors name the image.
* :func:`ldam_class_counts` and :func:`ldam_subsample` are the long-tailed
  sub-sampling of Cao et al., "Learning Imbalanced Datasets with
  Label-Distribution-Aware Margin Loss" (NeurIPS 2019), used by CIFAR-LT and
  Tiny-ImageNet-LT.
* :func:`split_holdout` draws a seeded per-class hold-out (``val``) from an
  evaluation set, leaving the disjoint rest as ``test``.
* ``check_*`` validators raise errors that name the file, line, value or class.
"""
import re
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dist import is_main_process
from mmengine.logging import print_log

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                  '.tiff', '.webp')
# verify=True / preload=True show a progress bar from this many images on
PROGRESS_MIN_IMAGES = 2000


_DIGITS = re.compile(r'(\d+)')


def natural_key(name: str) -> list:
    """Sort key that orders the digit runs of ``name`` numerically.

    ``['img10.jpg', 'img9.jpg']`` sorts as ``img9.jpg, img10.jpg``.
    """
    return [int(t) if t.isdigit() else t for t in _DIGITS.split(name)]


def check_imb_ratio(imb_ratio: float) -> float:
    """Return ``imb_ratio`` as a float, raising if it is not ``>= 1``.

    Args:
        imb_ratio (float): Imbalance ratio ``n_max / n_min``.

    Raises:
        ValueError: If the value is not a finite number ``>= 1``.
    """
    try:
        value = float(imb_ratio)
    except (TypeError, ValueError):
        raise ValueError(
            f'imb_ratio must be a number >= 1, got {imb_ratio!r}') from None
    if not np.isfinite(value) or value < 1:
        raise ValueError(
            f'imb_ratio must be a finite number >= 1 (1 = balanced), got '
            f'{imb_ratio!r}')
    return value


def check_label_range(label: int, num_classes: int, where: str) -> None:
    """Raise ``ValueError(f'{where}: label ... outside [0, C)')`` if needed.

    Args:
        label (int): The label to check.
        num_classes (int): Number of classes ``C``.
        where (str): Location for the message, e.g. ``'file.txt:12'``.
    """
    if not 0 <= label < num_classes:
        raise ValueError(
            f'{where}: label {label} outside [0, {num_classes})')


def check_no_empty_class(counts: Sequence[int],
                         classes: Optional[Sequence[str]] = None,
                         context: str = '') -> None:
    """Raise if any class has no image.

    Args:
        counts (Sequence[int]): Per-class image counts.
        classes (Sequence[str], optional): Class names used in the message.
        context (str): What the counts come from (a file, a ratio...).

    Raises:
        ValueError: Naming the first empty classes (index and name).
    """
    counts = np.asarray(counts)
    empty = np.flatnonzero(counts == 0)
    if len(empty) == 0:
        return
    shown = []
    for c in empty[:10]:
        name = f' ({classes[c]!r})' if classes is not None and c < len(
            classes) else ''
        shown.append(f'{int(c)}{name}')
    more = f' and {len(empty) - 10} more' if len(empty) > 10 else ''
    raise ValueError(f'{context}: {len(empty)} class(es) have no image: '
                     f'class {", ".join(shown)}{more}')


def ldam_class_counts(img_max: float,
                      num_classes: int,
                      imb_ratio: float,
                      imb_type: str = 'exp') -> List[int]:
    """Per-class image counts of the LDAM-DRW long-tailed profile.

    With imbalance factor ``mu = 1 / imb_ratio``, class ``i`` keeps

    * ``'exp'``:  ``n_i = int(img_max * mu ** (i / (C - 1)))``;
    * ``'step'``: ``n_i = int(img_max)`` for the first ``C // 2`` classes and
      ``int(img_max * mu)`` for the others.

    The float operations follow ``imbalance_cifar.py`` of LDAM-DRW (Cao et
    al., 2019) so the counts are identical (CIFAR-10, IR 100:
    ``[5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]``).

    Args:
        img_max (float): Images of the head class (``len(train) / C``).
        num_classes (int): Number of classes ``C``.
        imb_ratio (float): Imbalance ratio ``>= 1``.
        imb_type (str): ``'exp'`` or ``'step'``.

    Returns:
        list[int]: ``n_0, ..., n_{C-1}``.
    """
    imb_factor = 1 / check_imb_ratio(imb_ratio)
    if imb_type == 'exp':
        if num_classes == 1:
            return [int(img_max)]
        return [
            int(img_max * (imb_factor**(i / (num_classes - 1.0))))
            for i in range(num_classes)
        ]
    if imb_type == 'step':
        half = num_classes // 2
        return [int(img_max)] * half + [int(img_max * imb_factor)] * (
            num_classes - half)
    raise ValueError(f"imb_type must be 'exp' or 'step', got {imb_type!r}")


def ldam_subsample(targets: np.ndarray, counts: Sequence[int],
                   seed: int) -> np.ndarray:
    """Indices of the long-tailed subset, in LDAM-DRW's random stream.

    Reproduces ``gen_imbalanced_data`` of LDAM-DRW after
    ``np.random.seed(seed)``: for each class ``c`` in natural order,
    ``idx = np.where(targets == c)[0]; np.random.shuffle(idx);
    keep idx[:n_c]``, concatenated class after class. A local
    ``np.random.RandomState(seed)`` gives the same stream without touching
    the global numpy state.

    Args:
        targets (np.ndarray): Labels of the full (balanced) set.
        counts (Sequence[int]): ``n_c`` per class.
        seed (int): The seed (LDAM-DRW's ``rand_number``).

    Returns:
        np.ndarray: int64 indices into ``targets``.
    """
    targets = np.asarray(targets, dtype=np.int64)
    rng = np.random.RandomState(seed)
    keep = []
    for c, n_c in enumerate(counts):
        idx = np.where(targets == c)[0]
        rng.shuffle(idx)
        keep.append(idx[:n_c])
    if not keep:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(keep).astype(np.int64)


def split_holdout(targets: np.ndarray, num_classes: int, per_class: int,
                  seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """Seeded per-class hold-out of an evaluation set.

    For each class ``c`` (natural order) the indices of ``c`` are shuffled
    with ``np.random.RandomState(seed)``; the first ``per_class`` form the
    hold-out. Both parts are returned in the original order of ``targets``
    and are disjoint.

    Args:
        targets (np.ndarray): Labels of the evaluation set.
        num_classes (int): Number of classes.
        per_class (int): Hold-out images per class.
        seed (int): Seed of the draw.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(holdout_idx, rest_idx)``.

    Raises:
        ValueError: If a class has fewer than ``per_class`` images.
    """
    targets = np.asarray(targets, dtype=np.int64)
    rng = np.random.RandomState(seed)
    holdout = np.zeros(len(targets), dtype=bool)
    for c in range(num_classes):
        idx = np.where(targets == c)[0]
        if len(idx) < per_class:
            raise ValueError(
                f'val_per_class={per_class} but class {c} has only '
                f'{len(idx)} evaluation images')
        rng.shuffle(idx)
        holdout[idx[:per_class]] = True
    return np.flatnonzero(holdout), np.flatnonzero(~holdout)


def preload_entry(info: dict) -> dict:
    """A data-list entry with its image decoded (``img``, ``img_shape``, ``ori_shape``).

    Entries that already hold ``img`` (e.g. the CIFAR pickle release) are
    returned as they are. Decoding is ``LoadImageFromFile``'s default: cv2,
    colour, BGR uint8.

    Raises:
        OSError: Naming the file when it is missing or cannot be decoded.
    """
    if 'img' in info or 'img_path' not in info:
        return info
    import mmcv
    from mmengine.fileio import get
    path = info['img_path']
    try:
        img = mmcv.imfrombytes(get(path), flag='color', backend='cv2')
    except Exception as e:
        raise OSError(f'{path}: cannot read the image to preload it: {e}') from e
    if img is None:
        raise OSError(f'{path}: cannot decode the image to preload it')
    return dict(info, img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])


class LTDatasetMixin:
    """Mixin for mmpretrain ``BaseDataset`` subclasses of long-tailed data.

    Gives the shared interface of every mmlt dataset:

    * ``get_class_counts()``: int64 per-class counts of this dataset's own
      data list (length ``num_classes``);
    * ``metainfo['class_counts']``: the TRAINING split's counts (list of
      int), set through :meth:`_set_train_class_counts` for any split;
    * ``prepare_data``: a failing pipeline (e.g. an unreadable image)
      raises an error that names the image file.

    ``class_counts`` is filled when the data list is loaded, i.e. at
    construction, or at ``full_init()`` with ``lazy_init=True``.

    ``preload=True`` (a keyword of every mmlt dataset) decodes every image
    file of the split once, when the data list is built, into its entry's
    ``img`` (BGR uint8, as ``LoadImageFromFile`` reads it), so the pipeline
    starts without ``LoadImageFromFile``. Meant for small images (CIFAR,
    Tiny-ImageNet: 38 MB / 265 MB for the LT training splits): with the
    batched augmentation of :class:`mmlt.models.utils.BatchAugViewsDataPreprocessor`
    / ``BatchAugClsDataPreprocessor`` the dataloader then needs no worker
    process. An unreadable file fails here, naming it.

    ``verify=True`` opens every image file of the split completely once, when
    the data list is built (before preloading), and raises one error that
    lists every missing, empty, unreadable or truncated file with its list
    line (``tools/verify_dataset.py`` does the same from a config, in
    parallel workers, without raising).

    ``skip_bad_images=True``: an image that fails in the pipeline during the
    run (the error names it either way) is logged and replaced by the next
    image of the same class (in dataset order, so a resumed run replaces it
    the same way), so one corrupt file among millions does not end a long
    run. Without it (the default) the run stops with the error.
    """

    def __init__(self, *args, preload: bool = False, verify: bool = False,
                 skip_bad_images: bool = False, **kwargs) -> None:
        self.preload = bool(preload)
        self.verify = bool(verify)
        self.skip_bad_images = bool(skip_bad_images)
        self._bad_indices = set()
        self._class_index = None
        super().__init__(*args, **kwargs)

    def filter_data(self) -> List[dict]:
        """mmengine's filtering (none by default), then the opt-in image check and
        preloading (the last steps before the data list is serialised)."""
        data_list = super().filter_data()
        if not (self.preload or self.verify):
            return data_list
        # only the entries that `indices` (applied next by mmengine) keeps
        keep = range(len(data_list))
        if isinstance(self._indices, int):
            keep = range(min(self._indices, len(data_list)))
        elif self._indices is not None:
            keep = self._indices
        keep = sorted(set(keep))
        # a bar (main process) where the pass takes a while
        progress = len(keep) >= PROGRESS_MIN_IMAGES and is_main_process()
        if self.verify:
            from .verify import raise_if_bad, verify_images
            entries = [data_list[i] for i in keep]
            bad = verify_images(entries, progress=progress,
                                ann_file=getattr(self, 'ann_file', '') or '')
            raise_if_bad(bad, f'{self.__class__.__name__} (verify=True)', len(entries))
        if self.preload:
            data_list = list(data_list)
            bar, step = None, max(len(keep) // 100, 1)  # a log line per percent, not per image
            if progress:
                from mmengine.utils import ProgressBar
                print_log(f'{self.__class__.__name__}: decoding {len(keep)} images into memory '
                          '(preload=True)', logger='current')
                bar = ProgressBar(len(keep))
            for n, i in enumerate(keep, 1):
                data_list[i] = preload_entry(data_list[i])
                if bar is not None and (n % step == 0 or n == len(keep)):
                    bar.update(step if n % step == 0 else n % step)
        return data_list

    @property
    def num_classes(self) -> int:
        """Number of classes (``len(metainfo['classes'])``)."""
        classes = self._metainfo.get('classes')
        if classes is None:
            raise RuntimeError(
                f'{self.__class__.__name__} has no `classes` in metainfo')
        return len(classes)

    def get_class_counts(self) -> np.ndarray:
        """Per-class image counts of this dataset's own data list.

        Returns:
            np.ndarray: int64 array of length ``num_classes``.
        """
        labels = np.asarray(self.get_gt_labels(), dtype=np.int64)
        return np.bincount(labels, minlength=self.num_classes).astype(
            np.int64)

    def _set_train_class_counts(self, counts: Sequence[int]) -> None:
        """Store the training split's counts in ``metainfo``."""
        self._metainfo['class_counts'] = [int(n) for n in counts]

    def prepare_data(self, idx: int):
        """Run the pipeline on sample ``idx``; errors name the image file.

        Args:
            idx (int): Index of the sample.

        Returns:
            Any: The pipeline's output.
        """
        sample_seed = getattr(idx, 'sample_seed', None)
        if sample_seed is not None:  # SeededIndex from an mmlt sampler: (seed, epoch, position)
            from .samplers.sample_seed import seeded_sample
            with seeded_sample(sample_seed):
                return self._prepare(int(idx))
        return self._prepare(idx)

    def _prepare(self, idx: int):
        data_info = self.get_data_info(idx)
        try:
            return self.pipeline(data_info)
        except Exception as e:
            where = data_info.get('img_path')
            if self.skip_bad_images and where is not None:
                return self._prepare_replacement(idx, where, e)
            if where is None or where in str(e):
                raise
            msg = (f'{where}: failed to prepare sample {idx} of '
                   f'{self.__class__.__name__}: {type(e).__name__}: {e}')
            try:
                err = type(e)(msg)
            except Exception:  # exception types with other signatures
                err = RuntimeError(msg)
            raise err from e


    def _prepare_replacement(self, idx: int, path: str, error: Exception):
        """``skip_bad_images``: the next loadable image of ``idx``'s class."""
        from mmengine.logging import print_log
        self._bad_indices.add(idx)
        if self._class_index is None:
            labels = np.asarray(self.get_gt_labels(), dtype=np.int64)
            self._class_index = (labels, {c: np.flatnonzero(labels == c)
                                          for c in np.unique(labels)})
        labels, by_class = self._class_index
        same = by_class[labels[idx]]
        start = int(np.searchsorted(same, idx))
        for k in range(1, len(same)):
            other = int(same[(start + k) % len(same)])
            if other in self._bad_indices:
                continue
            print_log(f'skip_bad_images: {path} (sample {idx}, class {labels[idx]}) failed '
                      f'({type(error).__name__}: {error}); using sample {other} of the same '
                      'class instead', logger='current', level=30)
            return self.prepare_data(other)
        raise RuntimeError(f'skip_bad_images: {path} failed and no other image of class '
                           f'{labels[idx]} can be loaded') from error


class LDAMSubsetMixin(LTDatasetMixin):
    """Splits of a long-tailed subset built by LDAM-DRW's construction.

    A subclass provides :meth:`_load_source` (the full, balanced official
    ``'train'`` or ``'test'`` set as ``(items, targets)``, where ``items`` is
    an image array ``(N, H, W, 3)`` or a list of paths). This mixin then
    builds the split:

    * ``'train'``: :func:`ldam_subsample` of the official training set with
      the counts of :func:`ldam_class_counts` (``img_max = len(train) / C``);
    * ``'test'``: the official (balanced) test set, minus the ``val``
      hold-out when ``val_per_class > 0``;
    * ``'val'``: ``val_per_class`` images per class drawn (seeded) from the
      official test set, disjoint from ``'test'``.

    ``metainfo['class_counts']`` holds the long-tailed training counts for
    every split.
    """

    SPLITS = ('train', 'test', 'val')

    def _init_ldam_args(self, split: str, imb_ratio: float, imb_type: str,
                        seed: int, val_per_class: int) -> None:
        """Validate and store the construction arguments."""
        if split not in self.SPLITS:
            raise ValueError(f'{self.__class__.__name__}: split must be one '
                             f'of {self.SPLITS}, got {split!r}')
        self.imb_ratio = check_imb_ratio(imb_ratio)
        if imb_type not in ('exp', 'step'):
            raise ValueError(
                f"imb_type must be 'exp' or 'step', got {imb_type!r}")
        if int(val_per_class) != val_per_class or val_per_class < 0:
            raise ValueError(
                f'val_per_class must be an int >= 0, got {val_per_class!r}')
        if split == 'val' and val_per_class == 0:
            raise ValueError(
                f"{self.__class__.__name__}: split='val' needs "
                'val_per_class > 0 (the val split is drawn from the official '
                'test set), got val_per_class=0')
        self.split = split
        self.imb_type = imb_type
        self.seed = int(seed)
        self.val_per_class = int(val_per_class)

    @property
    def root(self) -> str:
        """The directory holding the release (``data_root`` + ``data_prefix``)."""
        return self.data_prefix['root']

    def extra_repr(self) -> List[str]:
        """The extra repr information of the dataset."""
        return [
            f'Prefix of data: \t{self.root}', f'Split: \t{self.split}',
            f'Imbalance: \t{self.imb_type}, ratio {self.imb_ratio:g}, '
            f'seed {self.seed}'
        ]

    def _load_source(self, name: str) -> Tuple[object, np.ndarray]:
        """Return the official ``name`` (``'train'``/``'test'``) set."""
        raise NotImplementedError

    def _train_subset(self, targets: np.ndarray) -> np.ndarray:
        """Indices of the long-tailed training subset (validated)."""
        num_classes = self.num_classes
        n_c = ldam_class_counts(
            len(targets) / num_classes, num_classes, self.imb_ratio,
            self.imb_type)
        idx = ldam_subsample(targets, n_c, self.seed)
        counts = np.bincount(targets[idx], minlength=num_classes)
        check_no_empty_class(
            counts, self._metainfo.get('classes'),
            f'{self.__class__.__name__}(imb_ratio={self.imb_ratio:g}, '
            f'imb_type={self.imb_type!r}) training split')
        self._set_train_class_counts(counts)
        return idx

    def load_data_list(self) -> List[dict]:
        """Build the data list of ``self.split``."""
        train_items, train_targets = self._load_source('train')
        train_idx = self._train_subset(train_targets)
        if self.split == 'train':
            return self._entries(train_items, train_targets, train_idx)
        del train_items
        items, targets = self._load_source('test')
        idx = np.arange(len(targets))
        if self.val_per_class > 0:
            val_idx, test_idx = split_holdout(targets, self.num_classes,
                                              self.val_per_class, self.seed)
            idx = val_idx if self.split == 'val' else test_idx
        return self._entries(items, targets, idx)

    @staticmethod
    def _entries(items, targets: np.ndarray, idx: np.ndarray) -> List[dict]:
        """Data-list entries ``img``/``img_path`` + ``gt_label`` of ``idx``."""
        if isinstance(items, np.ndarray):
            return [
                dict(img=items[i], gt_label=int(targets[i])) for i in idx
            ]
        return [dict(img_path=items[i], gt_label=int(targets[i])) for i in idx]
