# Copyright (c) mmlt contributors. All rights reserved.
"""Tiny-ImageNet-LT as a COCO-format detection set (one real box per image).

:func:`build_tiny_imagenet_lt_det` writes the COCO dict; :class:`TinyImageNetLTDet`
is an MMDetection ``CocoDataset`` over it that builds and caches the JSON on
first use.

Images and classes
    The ``'train'`` split is EXACTLY the image set of
    :class:`mmlt.datasets.TinyImageNetLT` (``split='train'`` with the same
    ``imb_ratio`` / ``imb_type`` / ``seed``): the classification dataset is
    built and its image paths are taken, in its order (image id ``i + 1`` is
    its sample ``i``). The ``'val'`` split is the whole official val set
    (10,000 images, 50 per class; image id ``i + 1`` is sample ``i`` of
    ``TinyImageNetLT(split='test')``, i.e. the line order of
    ``val_annotations.txt``). Category ``c + 1`` is class ``c`` of
    ``TinyImageNetLT``: the wnids of ``wnids.txt`` in SORTED order (the order
    the long-tailed profile is assigned in: category 1 keeps 500 training
    images, category 200 keeps 5 at IR 100), ``name`` = the wnid, ``words``
    = its ``words.txt`` entry.

Boxes
    The release gives ``<x0> <y0> <x1> <y1>`` as INCLUSIVE pixel indices in
    the 64x64 image (values 0..63; ``0 0 63 63`` is the whole image; 475
    boxes have ``x0 == x1`` or ``y0 == y1``, one pixel wide). Pixel ``i``
    covers ``[i, i + 1)`` in the continuous coordinates that COCO,
    pycocotools and MMDetection >= 2.0 use (no legacy ``+ 1`` in areas or
    IoUs), so the COCO box is ``[x0, y0, x1 - x0 + 1, y1 - y0 + 1]``, and
    ``0 0 63 63`` becomes ``[0, 0, 64, 64]``, the whole image. ``x1 - x0``
    would shrink every box by a pixel and make those 475 boxes empty
    (``CocoDataset`` drops boxes with ``w < 1``, and ``filter_empty_gt`` then
    their images, so the training set would no longer be the LT set); with
    ``+ 1`` the box transforms (resize, flip, mosaic scaling) are exact. The
    box is clipped to the image; a box leaving the image by more than
    ``box_tolerance`` pixels, or with ``x1 < x0``, is an error naming the
    file, line and values.

Categories carry LVIS's fields, from the long-tailed TRAINING split for both
splits (as LVIS's val file): ``image_count`` (training images holding the
category), ``instance_count`` (training boxes; one per image here) and
``frequency`` (``'r'`` <= 10 < ``'c'`` <= 100 < ``'f'`` training images by
default, ``freq_thresholds``), so that :class:`LongTailCocoMetric` can group
the classes from the evaluation file alone.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS

from mmlt.datasets.base import check_imb_ratio
from mmlt.datasets.tiny_imagenet_lt import TinyImageNetLT, _read_words
from .coco_format import (LVIS_FREQ_THRESHOLDS, check_coco, check_freq_thresholds,
                          dump_json_atomic, frequency_groups, load_json)

#: The 200 wnids of Tiny-ImageNet in ``TinyImageNetLT``'s class order (sorted).
TINY_IMAGENET_WNIDS = (
    'n01443537', 'n01629819', 'n01641577', 'n01644900', 'n01698640', 'n01742172',
    'n01768244', 'n01770393', 'n01774384', 'n01774750', 'n01784675', 'n01855672',
    'n01882714', 'n01910747', 'n01917289', 'n01944390', 'n01945685', 'n01950731',
    'n01983481', 'n01984695', 'n02002724', 'n02056570', 'n02058221', 'n02074367',
    'n02085620', 'n02094433', 'n02099601', 'n02099712', 'n02106662', 'n02113799',
    'n02123045', 'n02123394', 'n02124075', 'n02125311', 'n02129165', 'n02132136',
    'n02165456', 'n02190166', 'n02206856', 'n02226429', 'n02231487', 'n02233338',
    'n02236044', 'n02268443', 'n02279972', 'n02281406', 'n02321529', 'n02364673',
    'n02395406', 'n02403003', 'n02410509', 'n02415577', 'n02423022', 'n02437312',
    'n02480495', 'n02481823', 'n02486410', 'n02504458', 'n02509815', 'n02666196',
    'n02669723', 'n02699494', 'n02730930', 'n02769748', 'n02788148', 'n02791270',
    'n02793495', 'n02795169', 'n02802426', 'n02808440', 'n02814533', 'n02814860',
    'n02815834', 'n02823428', 'n02837789', 'n02841315', 'n02843684', 'n02883205',
    'n02892201', 'n02906734', 'n02909870', 'n02917067', 'n02927161', 'n02948072',
    'n02950826', 'n02963159', 'n02977058', 'n02988304', 'n02999410', 'n03014705',
    'n03026506', 'n03042490', 'n03085013', 'n03089624', 'n03100240', 'n03126707',
    'n03160309', 'n03179701', 'n03201208', 'n03250847', 'n03255030', 'n03355925',
    'n03388043', 'n03393912', 'n03400231', 'n03404251', 'n03424325', 'n03444034',
    'n03447447', 'n03544143', 'n03584254', 'n03599486', 'n03617480', 'n03637318',
    'n03649909', 'n03662601', 'n03670208', 'n03706229', 'n03733131', 'n03763968',
    'n03770439', 'n03796401', 'n03804744', 'n03814639', 'n03837869', 'n03838899',
    'n03854065', 'n03891332', 'n03902125', 'n03930313', 'n03937543', 'n03970156',
    'n03976657', 'n03977966', 'n03980874', 'n03983396', 'n03992509', 'n04008634',
    'n04023962', 'n04067472', 'n04070727', 'n04074963', 'n04099969', 'n04118538',
    'n04133789', 'n04146614', 'n04149813', 'n04179913', 'n04251144', 'n04254777',
    'n04259630', 'n04265275', 'n04275548', 'n04285008', 'n04311004', 'n04328186',
    'n04356056', 'n04366367', 'n04371430', 'n04376876', 'n04398044', 'n04399382',
    'n04417672', 'n04456115', 'n04465501', 'n04486054', 'n04487081', 'n04501370',
    'n04507155', 'n04532106', 'n04532670', 'n04540053', 'n04560804', 'n04562935',
    'n04596742', 'n04597913', 'n06596364', 'n07579787', 'n07583066', 'n07614500',
    'n07615774', 'n07695742', 'n07711569', 'n07715103', 'n07720875', 'n07734744',
    'n07747607', 'n07749582', 'n07753592', 'n07768694', 'n07871810', 'n07873807',
    'n07875152', 'n07920052', 'n09193705', 'n09246464', 'n09256479', 'n09332890',
    'n09428293', 'n12267677',
)

BOX_CONVENTION = ('Tiny-ImageNet boxes are inclusive pixel indices x0 y0 x1 y1; COCO bbox = '
                  '[x0, y0, x1 - x0 + 1, y1 - y0 + 1] clipped to the image (continuous '
                  'coordinates, pixel i covers [i, i + 1))')
SPLITS = ('train', 'val')


def default_ann_file(split: str = 'train', imb_ratio: float = 100, imb_type: str = 'exp',
                     seed: int = 0, mosaic: Optional[dict] = None) -> str:
    """The annotation file's path relative to the data root, e.g.
    ``annotations/tiny-imagenet-lt-r100_train.json``.

    ``imb_type='step'`` adds ``-step``, a seed other than 0 adds ``-s<seed>``,
    a mosaic (``dict(k=, canvas=, seed=)``) adds ``-mosaic-k2-c128[-s<seed>]``.
    The val file carries the ratio too: its categories hold that training
    split's counts.
    """
    name = f'tiny-imagenet-lt-r{check_imb_ratio(imb_ratio):g}'
    if imb_type != 'exp':
        name += f'-{imb_type}'
    if seed:
        name += f'-s{seed}'
    if mosaic:
        name += f"-mosaic-k{mosaic['k']}-c{mosaic['canvas']}"
        if mosaic.get('seed'):
            name += f"-s{mosaic['seed']}"
    return f'annotations/{name}_{split}.json'


def _image_size(path: str) -> Tuple[int, int]:
    """``(width, height)`` from the image header; errors name the file."""
    from PIL import Image
    try:
        with Image.open(path) as img:
            return img.size
    except Exception as e:
        raise OSError(f'{path}: cannot read the image size: {e}') from e


def _relative(path: str, root: str) -> str:
    """``path`` relative to ``root`` with ``/`` separators."""
    prefix = osp.join(root, '')
    rel = path[len(prefix):] if path.startswith(prefix) else osp.relpath(path, root)
    return rel.replace(os.sep, '/')


def _parse_box(parts: Sequence[str], where: str) -> Tuple[int, int, int, int]:
    try:
        return tuple(int(v) for v in parts)
    except ValueError:
        raise ValueError(f'{where}: expected four integer box coordinates '
                         f'x0 y0 x1 y1, got {list(parts)!r}') from None


def _read_box_file(path: str, with_wnid: bool) -> Dict[str, tuple]:
    """``file name -> (where, [wnid,] (x0, y0, x1, y1))`` of a Tiny-ImageNet box file.

    Args:
        path (str): ``train/<wnid>/<wnid>_boxes.txt`` (``with_wnid=False``, the boxes of one
            class) or ``val/val_annotations.txt`` (``with_wnid=True``).
        with_wnid (bool): Whether the lines carry the wnid after the file name.
    """
    layout = '<file> <wnid> <x0> <y0> <x1> <y1>' if with_wnid else '<file> <x0> <y0> <x1> <y1>'
    num_fields = len(layout.split())
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: missing (expected lines "{layout}")')
    boxes = {}
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f'{path}:{lineno}'
            parts = line.split()
            if len(parts) != num_fields:
                raise ValueError(f'{where}: expected "{layout}", got {line.rstrip()!r}')
            if parts[0] in boxes:
                raise ValueError(f'{where}: second box for {parts[0]!r} (first at '
                                 f'{boxes[parts[0]][0]})')
            boxes[parts[0]] = (where, *parts[1:-4], _parse_box(parts[-4:], where))
    return boxes


def tiny_box_to_coco(box: Sequence[int], width: int, height: int, where: str = '',
                     image: str = '', box_tolerance: float = 1.0) -> List[int]:
    """Inclusive ``(x0, y0, x1, y1)`` -> COCO ``[x, y, w, h]`` clipped to the image.

    ``[x0, y0, x1 - x0 + 1, y1 - y0 + 1]`` (see the module doc), clipped to
    ``width x height``.

    Raises:
        ValueError: ``x1 < x0`` / ``y1 < y0``, or the box leaves the image by
            more than ``box_tolerance`` pixels; the message names ``where``
            (file:line), the box and ``image``.
    """
    x0, y0, x1, y1 = box
    if x1 < x0 or y1 < y0:
        raise ValueError(f'{where}: box x0,y0,x1,y1 = {x0},{y0},{x1},{y1} of {image} has '
                         'x1 < x0 or y1 < y0')
    # continuous extent [x0, x1 + 1) x [y0, y1 + 1)
    left, top, right, bottom = x0, y0, x1 + 1, y1 + 1
    tol = box_tolerance
    if left < -tol or top < -tol or right > width + tol or bottom > height + tol:
        raise ValueError(f'{where}: box x0,y0,x1,y1 = {x0},{y0},{x1},{y1} (inclusive pixel '
                         f'indices) is outside the {width}x{height} image {image} by more '
                         f'than {tol:g} pixel(s)')
    left, top = max(left, 0), max(top, 0)
    right, bottom = min(right, width), min(bottom, height)
    if right <= left or bottom <= top:  # only with a tolerance > 1 pixel
        raise ValueError(f'{where}: box x0,y0,x1,y1 = {x0},{y0},{x1},{y1} of {image} is '
                         f'empty once clipped to the {width}x{height} image')
    return [left, top, right - left, bottom - top]


def _category_fields(wnids: Sequence[str], words: Optional[dict], train_counts: Sequence[int],
                     freq_thresholds: Sequence[int]) -> List[dict]:
    groups = frequency_groups(train_counts, freq_thresholds)
    return [
        dict(id=c + 1, name=wnid, words=(words or {}).get(wnid, ''),
             image_count=int(train_counts[c]), instance_count=int(train_counts[c]),
             frequency=str(groups[c])) for c, wnid in enumerate(wnids)
    ]


def build_tiny_imagenet_lt_det(root: str,
                               split: str = 'train',
                               imb_ratio: float = 100,
                               imb_type: str = 'exp',
                               seed: int = 0,
                               out_file: Optional[str] = None,
                               freq_thresholds: Sequence[int] = LVIS_FREQ_THRESHOLDS,
                               read_sizes: bool = True,
                               box_tolerance: float = 1.0) -> dict:
    """COCO-format detection annotations of Tiny-ImageNet-LT.

    See the module doc for the images, categories and box convention.

    Args:
        root (str): The ``tiny-imagenet-200`` folder.
        split (str): ``'train'`` (the long-tailed training set of
            ``TinyImageNetLT``) or ``'val'`` (the official val set).
        imb_ratio (float): Imbalance ratio of the training split (it also sets
            the categories' ``image_count`` / ``frequency`` of ``'val'``).
            Defaults to 100.
        imb_type (str): ``'exp'`` or ``'step'``. Defaults to ``'exp'``.
        seed (int): Seed of the LDAM-DRW sub-sampling. Defaults to 0.
        out_file (str, optional): Write the dict there as JSON (atomically).
        freq_thresholds (Sequence[int]): ``(rare_max, common_max)`` training
            images of the ``frequency`` field. Defaults to LVIS's (10, 100).
        read_sizes (bool): Read each image's width / height from its header
            (about 0.3 ms an image). False assumes 64x64, the size of every
            image of the release. Defaults to True.
        box_tolerance (float): Pixels a box may leave its image before it is
            an error (it is clipped either way). Defaults to 1.

    Returns:
        dict: ``info``, ``images`` (``id``, ``file_name`` relative to ``root``,
        ``width``, ``height``), ``annotations`` (``id``, ``image_id``,
        ``category_id``, ``bbox`` ``[x, y, w, h]``, ``area``, ``iscrowd=0``)
        and ``categories`` (``id`` 1..200, ``name`` = wnid, ``words``,
        ``image_count``, ``instance_count``, ``frequency``).
    """
    if split not in SPLITS:
        raise ValueError(f'build_tiny_imagenet_lt_det: split must be one of {SPLITS}, '
                         f'got {split!r}')
    freq_thresholds = check_freq_thresholds(freq_thresholds)
    root = str(root)
    cls = TinyImageNetLT(data_root=root, split='train' if split == 'train' else 'test',
                         imb_ratio=imb_ratio, imb_type=imb_type, seed=seed,
                         serialize_data=False)
    wnids = list(cls.wnids)
    train_counts = cls.metainfo['class_counts']
    entries = [cls.get_data_info(i) for i in range(len(cls))]
    if split == 'val':
        val_boxes = _read_box_file(osp.join(root, 'val', 'val_annotations.txt'), with_wnid=True)

    images, annotations = [], []
    class_boxes: Dict[int, dict] = {}
    for i, entry in enumerate(entries):
        path, label = entry['img_path'], int(entry['gt_label'])
        base = osp.basename(path)
        if split == 'train':
            if label not in class_boxes:
                wnid = wnids[label]
                class_boxes[label] = _read_box_file(
                    osp.join(root, 'train', wnid, f'{wnid}_boxes.txt'), with_wnid=False)
            boxes = class_boxes[label]
            if base not in boxes:
                wnid = wnids[label]
                raise ValueError(f"{osp.join(root, 'train', wnid, f'{wnid}_boxes.txt')}: no "
                                 f'box for the training image {path} (every image needs '
                                 'its annotation)')
            where, box = boxes[base]
        else:
            if base not in val_boxes:  # cannot happen: the list comes from the same file
                raise ValueError(f"{osp.join(root, 'val', 'val_annotations.txt')}: no box "
                                 f'for {path}')
            where, wnid, box = val_boxes[base]
            if wnid != wnids[label]:
                raise ValueError(f'{where}: wnid {wnid!r} differs from the class '
                                 f'{wnids[label]!r} of {path}')
        width, height = _image_size(path) if read_sizes else (64, 64)
        img_id = i + 1
        images.append(dict(id=img_id, file_name=_relative(path, root),
                           width=int(width), height=int(height)))
        bbox = tiny_box_to_coco(box, width, height, where, path, box_tolerance)
        annotations.append(dict(id=len(annotations) + 1, image_id=img_id,
                                category_id=label + 1, bbox=bbox,
                                area=bbox[2] * bbox[3], iscrowd=0))

    coco = dict(
        info=dict(description='Tiny-ImageNet-LT detection (mmlt)', split=split,
                  imb_ratio=float(cls.imb_ratio), imb_type=imb_type, seed=int(seed),
                  freq_thresholds=list(freq_thresholds), box_convention=BOX_CONVENTION,
                  category_counts='image_count / instance_count / frequency: the '
                  'long-tailed TRAINING split'),
        images=images,
        annotations=annotations,
        categories=_category_fields(wnids, _read_words(root, wnids), train_counts,
                                    freq_thresholds),
    )
    check_coco(coco, out_file or f'build_tiny_imagenet_lt_det({root!r}, {split!r})',
               require_annotations=True, box_tolerance=0)
    if out_file is not None:
        dump_json_atomic(coco, out_file)
    return coco


#: ``info`` keys of an annotation file that must match the dataset's arguments.
_INFO_KEYS = ('split', 'imb_ratio', 'imb_type', 'seed')


@DATASETS.register_module()
class TinyImageNetLTDet(CocoDataset):
    """Tiny-ImageNet-LT detection: MMDetection's ``CocoDataset`` over the JSON of
    :func:`build_tiny_imagenet_lt_det` (or of its mosaic variant).

    When ``ann_file`` (relative to ``data_root``) does not exist it is built
    from ``data_root`` (the ``tiny-imagenet-200`` folder) and written there
    once (``tools/det/make_tiny_imagenet_lt_det.py`` writes it ahead of time).
    A file whose ``info`` disagrees with ``split`` / ``imb_ratio`` /
    ``imb_type`` / ``seed``, whose categories are not the 200 wnids in
    ``TinyImageNetLT``'s order, or which fails :func:`check_coco` is an
    error naming it. ``metainfo['class_counts']`` holds the categories'
    ``image_count`` (the long-tailed training counts).

    Example::

        train_dataloader = dict(dataset=dict(
            type='TinyImageNetLTDet', data_root='data/tiny-imagenet-200',
            split='train', imb_ratio=100, pipeline=[...]))  # ann_file: the default

    Args:
        ann_file (str): The annotation file; defaults to
            :func:`default_ann_file` of the arguments
            (``annotations/tiny-imagenet-lt-r100_train.json``).
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        imb_ratio (float): Defaults to 100.
        imb_type (str): Defaults to ``'exp'``.
        seed (int): Defaults to 0.
        freq_thresholds (Sequence[int]): Of a built file's ``frequency``.
        auto_build (bool): Build a missing ``ann_file``. Defaults to True.
        data_prefix (dict): Defaults to ``dict(img='')`` (file names are
            relative to ``data_root``).
        **kwargs: Other arguments of ``CocoDataset``.
    """

    METAINFO = dict(classes=TINY_IMAGENET_WNIDS)

    def __init__(self,
                 ann_file: str = '',
                 split: str = 'train',
                 imb_ratio: float = 100,
                 imb_type: str = 'exp',
                 seed: int = 0,
                 freq_thresholds: Sequence[int] = LVIS_FREQ_THRESHOLDS,
                 auto_build: bool = True,
                 data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'TinyImageNetLTDet: split must be one of {SPLITS}, got '
                             f'{split!r}')
        self.split = split
        self.imb_ratio = check_imb_ratio(imb_ratio)
        self.imb_type = imb_type
        self.seed = int(seed)
        self.freq_thresholds = check_freq_thresholds(freq_thresholds)
        self.auto_build = auto_build
        super().__init__(
            ann_file=ann_file or default_ann_file(split, imb_ratio, imb_type, seed),
            data_prefix=data_prefix or dict(img=''),
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Build the annotation file if needed, validate it, then ``CocoDataset``'s loading."""
        if not osp.isfile(self.ann_file):
            if not self.auto_build:
                raise FileNotFoundError(
                    f'TinyImageNetLTDet: {self.ann_file} does not exist (auto_build=False); '
                    'make it with python3 tools/det/make_tiny_imagenet_lt_det.py --root '
                    f'{self.data_root or "DATA_ROOT"} --imb-ratio {self.imb_ratio:g}')
            build_tiny_imagenet_lt_det(self.data_root, self.split, self.imb_ratio,
                                       self.imb_type, self.seed, out_file=self.ann_file,
                                       freq_thresholds=self.freq_thresholds)
        coco = load_json(self.ann_file)
        self._check_annotation_file(coco)
        data_list = super().load_data_list()
        cats = sorted(coco['categories'], key=lambda c: c['id'])
        if all('image_count' in c for c in cats):
            self._metainfo['class_counts'] = [int(c['image_count']) for c in cats]
        return data_list

    def _check_annotation_file(self, coco: dict) -> None:
        info = coco.get('info') or {}
        expected = dict(split=self.split, imb_ratio=self.imb_ratio, imb_type=self.imb_type,
                        seed=self.seed)
        for key in _INFO_KEYS:
            if key in info and info[key] != expected[key]:
                raise ValueError(
                    f'{self.ann_file}: built with {key}={info[key]!r} but the dataset asks '
                    f'for {key}={expected[key]!r} (delete the file to rebuild it, or give '
                    'another ann_file)')
        check_coco(coco, self.ann_file, require_annotations=self.split == 'train')
        names = tuple(c.get('name') for c in sorted(coco['categories'], key=lambda c: c['id']))
        classes = tuple(self.metainfo['classes'])
        if names != classes:
            bad = next((i for i, (a, b) in enumerate(zip(names, classes)) if a != b),
                       min(len(names), len(classes)))
            raise ValueError(
                f'{self.ann_file}: the categories (by id) are not the dataset classes: '
                f'{len(names)} categories vs {len(classes)} classes, first difference at '
                f'position {bad}: {names[bad] if bad < len(names) else None!r} vs '
                f'{classes[bad] if bad < len(classes) else None!r}')
