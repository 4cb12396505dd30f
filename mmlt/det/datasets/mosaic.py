# Copyright (c) mmlt contributors. All rights reserved.
"""Mosaic variant of a COCO detection set: k x k source images tiled per canvas.

Design (seeded and deterministic; :func:`mosaic_coco`):

* the source images are permuted with ``np.random.RandomState(seed)`` and the
  permutation is cut into consecutive groups of ``k * k``
  (:func:`mosaic_groups`); every source image lands in exactly one canvas.
  When the count is not a multiple of ``k * k`` the last canvas holds the
  remaining ``r < k * k`` images and its other cells are left at ``pad_val``
  (114, MMDetection's ``Mosaic`` padding), so no image is repeated or dropped;
* tile ``j`` of a group goes to row ``j // k``, column ``j % k`` of a
  ``canvas x canvas`` image, in a cell of ``s = canvas // k`` pixels (``canvas``
  must be a multiple of ``k``); the source image is resized to ``s x s``
  (:func:`resize_tile`: cv2 ``INTER_AREA`` when shrinking, ``INTER_LINEAR``
  otherwise, no resize when it already has that size; Tiny-ImageNet's
  64x64 images keep their aspect ratio). All tiles of a canvas share one
  scale: scale variety is left to the detection pipeline (``RandomResize``
  ...), which keeps the tiles exact and the boxes exact;
* a source box ``[x, y, w, h]`` (continuous COCO coordinates) becomes
  ``[ox + x * sx, oy + y * sy, w * sx, h * sy]`` with the cell origin
  ``(ox, oy) = (col * s, row * s)`` and ``sx = s / width``, ``sy = s /
  height``: a pixel centre ``i + 0.5`` maps to ``(i + 0.5) * sx``, the
  convention of cv2's resize, so the boxes follow the resized pixels;
* canvases are written as ``<out_dir>/images/<index:06d><ext>`` (PNG by
  default: lossless, so a tile's pixels are exactly the resized source);
  ``file_name`` is relative to ``root``. Each canvas image lists its
  ``tiles`` (source ``image_id``, ``file_name``, cell ``x``, ``y``, ``size``);
  each box keeps ``source_image_id`` / ``source_ann_id``. The categories (and
  their training ``image_count`` / ``frequency``) are the source's.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np

from .coco_format import LVIS_FREQ_THRESHOLDS, check_coco, dump_json_atomic


def mosaic_groups(num_images: int, k: int = 2, seed: int = 0,
                  max_images: Optional[int] = None) -> List[np.ndarray]:
    """Indices of the source images of each canvas.

    ``np.random.RandomState(seed).permutation(num_images)``, truncated to its
    first ``max_images`` (a random subset, for quick checks), cut into groups
    of ``k * k`` (the last one possibly shorter).
    """
    if int(k) != k or k < 1:
        raise ValueError(f'mosaic: k must be an int >= 1, got {k!r}')
    perm = np.random.RandomState(seed).permutation(num_images)
    if max_images is not None:
        if int(max_images) != max_images or max_images < 1:
            raise ValueError(f'mosaic: max_images must be an int >= 1, got {max_images!r}')
        perm = perm[:max_images]
    per = k * k
    return [perm[i:i + per] for i in range(0, len(perm), per)]


def resize_tile(img: np.ndarray, size: int) -> np.ndarray:
    """``img`` resized to ``size x size``: unchanged at that size, cv2
    ``INTER_AREA`` when shrinking both sides, ``INTER_LINEAR`` otherwise."""
    import cv2
    h, w = img.shape[:2]
    if (w, h) == (size, size):
        return img
    interp = cv2.INTER_AREA if size <= w and size <= h else cv2.INTER_LINEAR
    return cv2.resize(img, (size, size), interpolation=interp)


def _read_color(path: str, width: int, height: int) -> np.ndarray:
    import cv2
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f'{path}: cannot read the image for the mosaic')
    if img.shape[:2] != (height, width):
        raise ValueError(f'{path}: the image is {img.shape[1]}x{img.shape[0]} but its '
                         f'annotation says {width}x{height}')
    return img


def mosaic_coco(source: dict,
                root: str,
                out_dir: str,
                k: int = 2,
                canvas: int = 128,
                seed: int = 0,
                max_images: Optional[int] = None,
                out_file: Optional[str] = None,
                ext: str = '.png',
                pad_val: int = 114,
                write_images: bool = True,
                origin: Optional[str] = None) -> dict:
    """Tile the images of a COCO dict into ``k x k`` mosaics (see the module doc).

    Args:
        source (dict): COCO dict whose ``file_name``s are relative to ``root``;
            every image needs an annotation.
        root (str): Folder of the source images; the canvases' ``file_name``
            are relative to it too.
        out_dir (str): Where the canvases go (``out_dir/images/``).
        k (int): Tiles per side. Defaults to 2.
        canvas (int): Canvas side in pixels (a multiple of ``k``). Defaults to 128.
        seed (int): Seed of the permutation. Defaults to 0.
        max_images (int, optional): Use only the first ``max_images`` images
            of the permutation (quick checks).
        out_file (str, optional): Write the COCO dict there as JSON.
        ext (str): ``'.png'`` (lossless, default) or ``'.jpg'`` (quality 95).
        pad_val (int): Value of the cells of the last, partial canvas that
            hold no image. Defaults to 114.
        write_images (bool): Write the canvases (False: the JSON only).
        origin (str, optional): Name of ``source`` in error messages.

    Returns:
        dict: The mosaic's COCO dict.
    """
    import cv2
    check_coco(source, origin, require_annotations=True)
    if int(canvas) != canvas or canvas < 1 or int(k) != k or k < 1 or canvas % k:
        raise ValueError(f'mosaic: canvas={canvas!r} must be a positive multiple of '
                         f'k={k!r}')
    if ext.lower() not in ('.png', '.jpg', '.jpeg'):
        raise ValueError(f"mosaic: ext must be '.png' or '.jpg', got {ext!r}")
    k, canvas = int(k), int(canvas)
    size = canvas // k
    src_images = source['images']
    anns_of = {}
    for ann in source['annotations']:
        anns_of.setdefault(ann['image_id'], []).append(ann)
    groups = mosaic_groups(len(src_images), k, seed, max_images)
    img_dir = osp.join(out_dir, 'images')
    if write_images:
        os.makedirs(img_dir, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext.lower() != '.png' else []

    images, annotations = [], []
    for index, group in enumerate(groups):
        path = osp.join(img_dir, f'{index:06d}{ext}')
        canvas_id = index + 1
        tiles = []
        img = np.full((canvas, canvas, 3), pad_val, np.uint8) if write_images else None
        for j, src_idx in enumerate(group):
            src = src_images[int(src_idx)]
            ox, oy = (j % k) * size, (j // k) * size
            sx, sy = size / src['width'], size / src['height']
            tiles.append(dict(image_id=src['id'], file_name=src['file_name'], x=ox, y=oy,
                              size=size))
            if write_images:
                tile = _read_color(osp.join(root, src['file_name']), src['width'],
                                   src['height'])
                img[oy:oy + size, ox:ox + size] = resize_tile(tile, size)
            for ann in anns_of[src['id']]:
                x, y, w, h = ann['bbox']
                bbox = [ox + x * sx, oy + y * sy, w * sx, h * sy]
                annotations.append(dict(
                    id=len(annotations) + 1, image_id=canvas_id,
                    category_id=ann['category_id'], bbox=bbox, area=bbox[2] * bbox[3],
                    iscrowd=int(ann.get('iscrowd', 0)), source_image_id=src['id'],
                    source_ann_id=ann['id']))
        if write_images and not cv2.imwrite(path, img, params):
            raise OSError(f'{path}: cannot write the mosaic image')
        images.append(dict(id=canvas_id,
                           file_name=osp.relpath(path, root).replace(os.sep, '/'),
                           width=canvas, height=canvas, tiles=tiles))

    info = dict(source.get('info') or {})
    info['mosaic'] = dict(k=k, canvas=canvas, tile=size, seed=int(seed),
                          max_images=max_images, num_source_images=int(sum(map(len, groups))),
                          pad_val=int(pad_val), ext=ext,
                          design='seeded permutation cut into k*k groups (last partial, '
                          'empty cells at pad_val); each tile resized to canvas/k square; '
                          'boxes scaled by canvas/k/width and shifted by the cell origin')
    coco = dict(info=info, images=images, annotations=annotations,
                categories=[dict(c) for c in source['categories']])
    check_coco(coco, out_file or 'mosaic', require_annotations=True, box_tolerance=1e-6)
    if out_file is not None:
        dump_json_atomic(coco, out_file)
    return coco


def build_tiny_imagenet_lt_det_mosaic(root: str,
                                      out_dir: Optional[str] = None,
                                      imb_ratio: float = 100,
                                      imb_type: str = 'exp',
                                      seed: int = 0,
                                      k: int = 2,
                                      canvas: int = 128,
                                      mosaic_seed: Optional[int] = None,
                                      max_images: Optional[int] = None,
                                      out_file: Optional[str] = None,
                                      ext: str = '.png',
                                      pad_val: int = 114,
                                      write_images: bool = True,
                                      freq_thresholds: Sequence[int] = LVIS_FREQ_THRESHOLDS,
                                      source: Optional[dict] = None) -> dict:
    """Mosaics of the Tiny-ImageNet-LT training set (see the module doc).

    The source is :func:`build_tiny_imagenet_lt_det` ``(root, 'train',
    imb_ratio, imb_type, seed)`` (or ``source``, that dict already built); the
    permutation uses ``mosaic_seed`` (default: ``seed``).

    Args:
        root (str): The ``tiny-imagenet-200`` folder.
        out_dir (str, optional): Folder of the canvases; defaults to
            ``root/mosaic/tiny-imagenet-lt-r<IR>-mosaic-k<k>-c<canvas>``.
        k, canvas, max_images, out_file, ext, pad_val, write_images: see
            :func:`mosaic_coco`.
        source (dict, optional): The LT training COCO dict, if already built.

    Returns:
        dict: The mosaic's COCO dict (``file_name`` relative to ``root``).
    """
    from .tiny_imagenet_lt_det import build_tiny_imagenet_lt_det, default_ann_file
    root = str(root)
    mosaic_seed = seed if mosaic_seed is None else int(mosaic_seed)
    if out_dir is None:
        name = osp.basename(default_ann_file('train', imb_ratio, imb_type, seed,
                                             dict(k=k, canvas=canvas, seed=mosaic_seed)))
        out_dir = osp.join(root, 'mosaic', name[:-len('_train.json')])
    if source is None:
        source = build_tiny_imagenet_lt_det(root, 'train', imb_ratio, imb_type, seed,
                                            freq_thresholds=freq_thresholds)
    return mosaic_coco(source, root, out_dir, k=k, canvas=canvas, seed=mosaic_seed,
                       max_images=max_images, out_file=out_file, ext=ext, pad_val=pad_val,
                       write_images=write_images, origin='Tiny-ImageNet-LT train')
