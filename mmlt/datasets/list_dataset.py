# Copyright (c) mmlt contributors. All rights reserved.
"""Long-tailed datasets given by split lists (ImageNet-LT, Places-LT, iNat).

Two list formats are read:

* text, one ``relative/path label`` per line (the lists of Liu et al.,
  "Large-Scale Long-Tailed Recognition in an Open World", CVPR 2019, and of
  Kang et al., "Decoupling Representation and Classifier", ICLR 2020);
  the line is split on its LAST whitespace, so paths may hold spaces, and
  blank lines are skipped; a UTF-8 byte-order mark and CRLF line ends (lists
  written on Windows) are accepted;
* JSON, ``{"num_classes": N, "annotations": [{"fpath": ..., "category_id":
  ...}, ...]}`` (the format of the DSCL / PaCo code bases).

Both refuse a path that leaves the image root (absolute, or ``..`` above it)
and an image listed twice with different labels, naming both lines.
"""
import json
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.datasets.categories import IMAGENET_CATEGORIES
from mmpretrain.registry import DATASETS

from .base import LTDatasetMixin, check_no_empty_class


def _check_file(path: str, what: str) -> None:
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: {what} not found')


def _check_relative(rel: str, where: str) -> None:
    """Refuse a list path that would leave the image root."""
    norm = osp.normpath(rel.replace('\\', '/'))
    if osp.isabs(rel) or norm == '..' or norm.startswith('../'):
        raise ValueError(f'{where}: path {rel!r} leaves the image root '
                         '(absolute or ".."); list paths must be relative '
                         'to data_prefix')


class _DuplicateCheck:
    """Remember where each path was listed; an image listed again with a
    different label is an error naming both places."""

    def __init__(self) -> None:
        self.seen = {}

    def __call__(self, rel: str, label: int, where: str) -> None:
        key = osp.normpath(rel)
        first = self.seen.setdefault(key, (label, where))
        if first[0] != label:
            raise ValueError(f'{where}: {rel!r} has label {label}, but '
                             f'{first[1]} gives it label {first[0]}')


def read_text_list(path: str, num_classes: int, return_lines: bool = False) -> tuple:
    """Read a ``relative/path label`` list.

    Args:
        path (str): The list file.
        num_classes (int): Labels must lie in ``[0, num_classes)``.
        return_lines (bool): Also return each entry's line number (1-based).
            Defaults to False.

    Returns:
        tuple[list[str], np.ndarray]: Relative paths and int64 labels (and
        the list of line numbers with ``return_lines``).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: ``'{path}:{line}: ...'`` for a line without a label, a
            non-integer label, a label outside ``[0, num_classes)``, a path
            that leaves the image root, or a path listed again with another
            label (both lines named).
    """
    _check_file(path, 'annotation file')
    with open(path, encoding='utf-8-sig') as f:  # -sig: drop a BOM
        lines = f.read().splitlines()  # \n, \r\n and \r alike
    paths, labels, linenos = [], [], []
    duplicate = _DuplicateCheck()
    for lineno, line in enumerate(lines, 1):
        parts = line.rsplit(None, 1)
        if not parts:
            continue  # blank line
        if len(parts) != 2:
            raise ValueError(f'{path}:{lineno}: expected "<relative/path> '
                             f'<label>", got {line!r}')
        rel, label = parts
        try:
            label = int(label)
        except ValueError:
            raise ValueError(f'{path}:{lineno}: label {label!r} is not an '
                             'integer') from None
        if not 0 <= label < num_classes:
            raise ValueError(f'{path}:{lineno}: label {label} outside '
                             f'[0, {num_classes})')
        rel = rel.lstrip()
        _check_relative(rel, f'{path}:{lineno}')
        duplicate(rel, label, f'{path}:{lineno}')
        paths.append(rel)
        labels.append(label)
        linenos.append(lineno)
    if return_lines:
        return paths, np.asarray(labels, dtype=np.int64), linenos
    return paths, np.asarray(labels, dtype=np.int64)


def read_json_list(
        path: str,
        num_classes: Optional[int] = None
) -> Tuple[List[str], np.ndarray, int]:
    """Read a ``{"num_classes", "annotations": [{"fpath", "category_id"}]}``.

    Args:
        path (str): The JSON file.
        num_classes (int, optional): Expected number of classes; must agree
            with the file's ``num_classes`` when both are given.

    Returns:
        tuple[list[str], np.ndarray, int]: Relative paths, int64 labels and
        the number of classes.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: Naming the file (and the annotation index) for a bad
            structure, a missing field or a label out of range.
    """
    _check_file(path, 'annotation file')
    with open(path, encoding='utf-8-sig') as f:  # -sig: drop a BOM
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}: invalid JSON: {e}') from None
    if not isinstance(data, dict) or not isinstance(
            data.get('annotations'), list):
        raise ValueError(f'{path}: expected {{"num_classes": N, '
                         '"annotations": [...]}}')
    file_classes = data.get('num_classes')
    if num_classes is None:
        if file_classes is None:
            raise ValueError(f'{path}: no "num_classes"; pass num_classes')
        num_classes = int(file_classes)
    elif file_classes is not None and int(file_classes) != num_classes:
        raise ValueError(f'{path}: num_classes {file_classes} in the file '
                         f'but {num_classes} expected')
    paths, labels = [], []
    duplicate = _DuplicateCheck()
    for i, ann in enumerate(data['annotations']):
        try:
            rel, label = ann['fpath'], ann['category_id']
        except (KeyError, TypeError):
            raise ValueError(f'{path}: annotation {i}: expected "fpath" and '
                             f'"category_id", got {ann!r}') from None
        if not isinstance(label, int) or isinstance(label, bool):
            raise ValueError(f'{path}: annotation {i}: category_id '
                             f'{label!r} is not an integer')
        if not 0 <= label < num_classes:
            raise ValueError(f'{path}: annotation {i}: label {label} '
                             f'outside [0, {num_classes})')
        if not isinstance(rel, str):
            raise ValueError(f'{path}: annotation {i}: fpath {rel!r} is not '
                             'a string')
        _check_relative(rel, f'{path}: annotation {i}')
        duplicate(rel, label, f'{path}: annotation {i}')
        paths.append(rel)
        labels.append(label)
    return paths, np.asarray(labels, dtype=np.int64), num_classes


def read_class_counts(path: str, num_classes: int) -> np.ndarray:
    """Read ``{"0": n0, "1": n1, ...}`` (or a JSON list) of class counts.

    Args:
        path (str): The JSON file.
        num_classes (int): Number of classes.

    Returns:
        np.ndarray: int64 counts of length ``num_classes`` (absent classes
        count 0).
    """
    _check_file(path, 'class counts file')
    with open(path, encoding='utf-8-sig') as f:
        data = json.load(f)
    if isinstance(data, list):
        data = dict(enumerate(data))
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected {{"<class>": <count>, ...}}')
    counts = np.zeros(num_classes, dtype=np.int64)
    for key, value in data.items():
        try:
            c, n = int(key), int(value)
        except (TypeError, ValueError):
            raise ValueError(
                f'{path}: entry {key!r}: {value!r} is not "<int>": <int>'
            ) from None
        if not 0 <= c < num_classes:
            raise ValueError(
                f'{path}: class {c} outside [0, {num_classes})')
        if n < 0:
            raise ValueError(f'{path}: class {c} has count {n} < 0')
        counts[c] = n
    return counts


@DATASETS.register_module()
class LTListDataset(LTDatasetMixin, BaseDataset):
    """A long-tailed dataset given by a split list (text or JSON).

    Entries are ``dict(img_path=join(img_prefix, relative_path),
    gt_label=int)``. ``metainfo['class_counts']`` holds the TRAINING
    counts, taken from (first found) ``class_counts_file``,
    ``train_ann_file``, or the list itself when it is a training list
    (``test_mode=False``); an evaluation list (``test_mode=True``) with
    neither file has no ``class_counts``.

    Args:
        ann_file (str): The split list (``.json``: JSON format, otherwise
            text). Relative paths are joined with ``data_root``.
        data_root (str): Root joined with ``ann_file``, ``data_prefix``,
            ``train_ann_file`` and ``class_counts_file``. Defaults to ''.
        data_prefix (str | dict): Image root (``dict(img_path=...)`` also
            accepted). Defaults to ''.
        num_classes (int, optional): Number of classes; required for text
            lists unless the class defines ``NUM_CLASSES`` or ``classes`` is
            given; a JSON list may give it.
        classes (str | Sequence[str], optional): Class names (a file, one a
            line, or a sequence). Defaults to ``'0', '1', ...``.
        train_ann_file (str, optional): The training list whose counts give
            ``metainfo['class_counts']``. Defaults to None.
        class_counts_file (str, optional): A JSON ``{"0": n0, ...}`` of
            training counts (e.g. DSCL's
            ``ImageNet_LT_train_class_number.json``). Defaults to None.
        check_empty_classes (bool): Raise if a class has no training image
            (in the training counts, wherever they come from). Defaults to
            True.
        metainfo (dict, optional): Meta information. Defaults to None.
        test_mode (bool): Whether ``ann_file`` is an evaluation list.
            Defaults to False.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`.
    """

    NUM_CLASSES: Optional[int] = None

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: Union[str, dict] = '',
                 num_classes: Optional[int] = None,
                 classes: Union[str, Sequence[str], None] = None,
                 train_ann_file: Optional[str] = None,
                 class_counts_file: Optional[str] = None,
                 check_empty_classes: bool = True,
                 metainfo: Optional[dict] = None,
                 test_mode: bool = False,
                 **kwargs):
        if num_classes is None:
            num_classes = self.NUM_CLASSES
        if num_classes is not None and (int(num_classes) != num_classes
                                        or num_classes < 1):
            raise ValueError(f'num_classes must be an int >= 1, got '
                             f'{num_classes!r}')
        self._num_classes = num_classes
        self.train_ann_file = self._under_root(train_ann_file, data_root)
        self.class_counts_file = self._under_root(class_counts_file,
                                                  data_root)
        self.check_empty_classes = check_empty_classes
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=data_prefix,
            test_mode=test_mode,
            classes=classes,
            **kwargs)

    @staticmethod
    def _under_root(path: Optional[str], root: str) -> Optional[str]:
        if path is None or not root or osp.isabs(path):
            return path
        return osp.join(root, path)

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        if self._num_classes is not None:
            return self._num_classes
        classes = self._metainfo.get('classes')
        if classes is None:
            raise RuntimeError(f'{self.__class__.__name__}: num_classes is '
                               'unknown before the list is loaded')
        return len(classes)

    def _read_list(self, path: str, return_where: bool = False) -> tuple:
        """Read a text or JSON list, fixing ``num_classes`` on first use.

        With ``return_where``, also each entry's place in the file: a dict
        ``ann_line`` (text) or ``ann_index`` (JSON) per entry.
        """
        if path.lower().endswith('.json'):
            paths, labels, num_classes = read_json_list(
                path, self._num_classes)
            self._num_classes = num_classes
            if return_where:
                return paths, labels, [dict(ann_index=i) for i in range(len(paths))]
            return paths, labels
        if self._num_classes is None:
            classes = self._metainfo.get('classes')
            if classes is None:
                raise ValueError(
                    f'{path}: num_classes is required for a text list '
                    '(pass num_classes or classes)')
            self._num_classes = len(classes)
        if return_where:
            paths, labels, lines = read_text_list(path, self._num_classes, return_lines=True)
            return paths, labels, [dict(ann_line=n) for n in lines]
        return read_text_list(path, self._num_classes)

    def _train_counts(
        self, labels: np.ndarray
    ) -> Tuple[Optional[np.ndarray], Optional[str]]:
        """Training counts and the file they come from (or ``None``s)."""
        if self.class_counts_file is not None:
            return read_class_counts(self.class_counts_file,
                                     self.num_classes), self.class_counts_file
        if self.train_ann_file is not None:
            _, train_labels = self._read_list(self.train_ann_file)
            return np.bincount(
                train_labels,
                minlength=self.num_classes), self.train_ann_file
        if not self.test_mode:
            return np.bincount(labels,
                               minlength=self.num_classes), self.ann_file
        return None, None

    def load_data_list(self) -> List[dict]:
        """Parse the list into ``dict(img_path, gt_label, ann_line | ann_index)`` entries
        (the place in the list is what error messages and ``verify`` name)."""
        paths, labels, where = self._read_list(self.ann_file, return_where=True)
        classes = self._metainfo.get('classes')
        if classes is None:
            self._metainfo['classes'] = tuple(
                str(i) for i in range(self.num_classes))
        elif len(classes) != self.num_classes:
            raise ValueError(
                f'{self.ann_file}: {len(classes)} class names given for '
                f'{self.num_classes} classes')
        counts, source = self._train_counts(labels)
        if counts is not None:
            if self.check_empty_classes:
                check_no_empty_class(counts, self._metainfo['classes'],
                                     f'{source} (training counts)')
            self._set_train_class_counts(counts)
        prefix = self.img_prefix
        join = osp.join
        return [
            dict(img_path=join(prefix, rel), gt_label=int(label), **w)
            for rel, label, w in zip(paths, labels, where)
        ]


@DATASETS.register_module()
class ImageNetLT(LTListDataset):
    """ImageNet-LT (Liu et al., CVPR 2019): 1000 classes, 115,846 training
    images (1280 to 5 per class), val 20 and test 50 images per class.

    See :class:`LTListDataset` for the arguments.
    """

    NUM_CLASSES = 1000
    METAINFO = {'classes': IMAGENET_CATEGORIES}


@DATASETS.register_module()
class PlacesLT(LTListDataset):
    """Places-LT (Liu et al., CVPR 2019): 365 classes, 62,500 training images
    (4980 to 5 per class), val 20 and test 100 images per class.

    See :class:`LTListDataset` for the arguments.
    """

    NUM_CLASSES = 365


@DATASETS.register_module()
class INaturalist2018(LTListDataset):
    """iNaturalist 2018 (Van Horn et al., CVPR 2018): 8142 classes, 437,513
    training images, val 3 images per class.

    See :class:`LTListDataset` for the arguments.
    """

    NUM_CLASSES = 8142
