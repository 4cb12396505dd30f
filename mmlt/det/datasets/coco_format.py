# Copyright (c) mmlt contributors. All rights reserved.
"""COCO-format helpers shared by the long-tailed detection datasets and metric.

* :func:`frequency_groups`: LVIS's rare / common / frequent groups from the
  number of TRAINING images of each category.
* :func:`image_counts`: LVIS's ``image_count`` (images holding at least one
  instance of the category) of a COCO dict.
* :func:`check_coco`: validates a COCO dict; every error names the file (or
  the given origin), the image or annotation and the offending value.
* :func:`dump_json_atomic`: writes a JSON file through a temporary file and a
  rename, so concurrent builders (one per rank) never leave a half file.
"""
import json
import os
import os.path as osp
import tempfile
from collections import defaultdict
from typing import Dict, Optional, Sequence

import numpy as np

#: Upper bounds of LVIS's groups: rare 1-10, common 11-100, frequent > 100
#: training images (Gupta et al., "LVIS", CVPR 2019).
LVIS_FREQ_THRESHOLDS = (10, 100)
FREQ_GROUPS = ('r', 'c', 'f')


def check_freq_thresholds(thresholds: Sequence[int]) -> tuple:
    """``(rare_max, common_max)`` as ints, raising if not ``0 <= rare_max <= common_max``."""
    try:
        rare_max, common_max = (int(t) for t in thresholds)
    except (TypeError, ValueError):
        raise ValueError('freq_thresholds must be two ints (rare_max, common_max), '
                         f'got {thresholds!r}') from None
    if not 0 <= rare_max <= common_max:
        raise ValueError('freq_thresholds must satisfy 0 <= rare_max <= common_max, '
                         f'got {thresholds!r}')
    return rare_max, common_max


def frequency_groups(counts: Sequence[int],
                     thresholds: Sequence[int] = LVIS_FREQ_THRESHOLDS) -> np.ndarray:
    """LVIS frequency group of every category from its training image count.

    ``'r'`` (rare): ``n <= rare_max``; ``'c'`` (common): ``rare_max < n <=
    common_max``; ``'f'`` (frequent): ``n > common_max``. With the default
    ``(10, 100)`` these are LVIS's 1-10 / 11-100 / > 100 (a category without
    any training image, which LVIS does not have, counts as rare).

    Returns:
        np.ndarray: One of ``'r'``, ``'c'``, ``'f'`` per category.
    """
    rare_max, common_max = check_freq_thresholds(thresholds)
    counts = np.asarray(counts, dtype=np.int64)
    return np.where(counts <= rare_max, 'r',
                    np.where(counts <= common_max, 'c', 'f'))


def image_counts(coco: dict) -> Dict[int, int]:
    """``category_id -> number of images with at least one instance of it``
    (LVIS's ``image_count``); categories without any image map to 0."""
    images = defaultdict(set)
    for ann in coco.get('annotations', []):
        images[ann['category_id']].add(ann['image_id'])
    return {cat['id']: len(images.get(cat['id'], ())) for cat in coco['categories']}


def _where(origin: Optional[str]) -> str:
    return origin or '<COCO dict>'


def check_coco(coco: dict,
               origin: Optional[str] = None,
               require_annotations: bool = True,
               box_tolerance: float = 1.0) -> None:
    """Validate a COCO-format detection dict.

    Checks that ``images``, ``annotations`` and ``categories`` exist; image
    and category ids are unique; every annotation has a known ``image_id``
    and a ``category_id`` among the categories; its ``bbox`` ``[x, y, w,
    h]`` has ``w, h > 0`` and lies in its image up to ``box_tolerance``
    pixels; and, with ``require_annotations``, that every image has at least
    one annotation.

    Args:
        coco (dict): The COCO dict.
        origin (str, optional): Its file, used in the messages.
        require_annotations (bool): Reject images without annotation.
            Defaults to True.
        box_tolerance (float): How far (pixels) a box may leave its image.
            Defaults to 1.

    Raises:
        ValueError: Naming ``origin``, the image / annotation and the value.
    """
    where = _where(origin)
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(coco.get(key), list):
            raise ValueError(f'{where}: no {key!r} list (a COCO detection file has '
                             'images, annotations and categories)')
    cat_ids = [c.get('id') for c in coco['categories']]
    if len(set(cat_ids)) != len(cat_ids):
        dup = sorted({c for c in cat_ids if cat_ids.count(c) > 1})
        raise ValueError(f'{where}: duplicated category ids {dup}')
    cat_ids = set(cat_ids)
    images = {}
    for img in coco['images']:
        if img.get('id') in images:
            raise ValueError(f"{where}: duplicated image id {img.get('id')!r} "
                             f"({img.get('file_name')!r})")
        for key in ('width', 'height'):
            if not isinstance(img.get(key), (int, float)) or img[key] <= 0:
                raise ValueError(f"{where}: image {img.get('file_name')!r} (id "
                                 f"{img.get('id')!r}) has {key}={img.get(key)!r}")
        images[img['id']] = img
    annotated = set()
    for ann in coco['annotations']:
        ann_id = ann.get('id')
        img = images.get(ann.get('image_id'))
        if img is None:
            raise ValueError(f"{where}: annotation {ann_id!r} refers to image_id "
                             f"{ann.get('image_id')!r}, which is not in images")
        name = img.get('file_name')
        if ann.get('category_id') not in cat_ids:
            lo, hi = (min(cat_ids), max(cat_ids)) if cat_ids else (None, None)
            raise ValueError(f"{where}: annotation {ann_id!r} of image {name!r} has "
                             f"category_id {ann.get('category_id')!r}, not among the "
                             f'{len(cat_ids)} categories (ids {lo}..{hi})')
        box = ann.get('bbox')
        if (not isinstance(box, (list, tuple)) or len(box) != 4
                or not all(isinstance(v, (int, float)) for v in box)):
            raise ValueError(f'{where}: annotation {ann_id!r} of image {name!r} has '
                             f'bbox {box!r}, expected [x, y, w, h]')
        x, y, w, h = box
        if w <= 0 or h <= 0:
            raise ValueError(f'{where}: annotation {ann_id!r} of image {name!r} has '
                             f'an empty bbox {box!r} (w and h must be > 0)')
        tol = box_tolerance
        if (x < -tol or y < -tol or x + w > img['width'] + tol
                or y + h > img['height'] + tol):
            raise ValueError(f'{where}: annotation {ann_id!r}: bbox {box!r} '
                             f"([x, y, w, h]) is outside its {img['width']}x"
                             f"{img['height']} image {name!r}")
        annotated.add(ann['image_id'])
    if require_annotations:
        for img_id, img in images.items():
            if img_id not in annotated:
                raise ValueError(f"{where}: image {img.get('file_name')!r} (id "
                                 f'{img_id!r}) has no annotation')


def load_json(path: str) -> dict:
    """Read a JSON file; a parse error names the file."""
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not a valid JSON file: {e}') from e


def dump_json_atomic(obj: dict, path: str) -> str:
    """Write ``obj`` as JSON to ``path`` through a temporary file in the same folder."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', dir=folder)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(obj, f, separators=(',', ':'))
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    return path
