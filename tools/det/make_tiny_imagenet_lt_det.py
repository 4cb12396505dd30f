"""Write the COCO-format annotation files of Tiny-ImageNet-LT detection (and its mosaic).

Examples::

    # annotations/tiny-imagenet-lt-r100_{train,val}.json under the data root
    python3 tools/det/make_tiny_imagenet_lt_det.py --root data/tiny-imagenet-200 --imb-ratio 100

    # plus 2x2 mosaics on 128x128 canvases (mosaic/<name>/images/*.png and
    # annotations/tiny-imagenet-lt-r100-mosaic-k2-c128_train.json)
    python3 tools/det/make_tiny_imagenet_lt_det.py --root data/tiny-imagenet-200 --mosaic-k 2 \\
        --mosaic-canvas 128

The files are what ``TinyImageNetLTDet`` (``custom_imports=dict(imports=['mmlt.det'])``)
reads by default (it builds a missing plain file itself; the mosaic has to be made here).
"""
import argparse
import os.path as osp
import sys
import time
from collections import Counter

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmlt.det.datasets import (build_tiny_imagenet_lt_det,  # noqa: E402
                               build_tiny_imagenet_lt_det_mosaic, default_ann_file)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', default='data/tiny-imagenet-200',
                        help='the tiny-imagenet-200 folder')
    parser.add_argument('--imb-ratio', type=float, default=100)
    parser.add_argument('--imb-type', default='exp', choices=('exp', 'step'))
    parser.add_argument('--seed', type=int, default=0, help='seed of the LT sub-sampling')
    parser.add_argument('--splits', nargs='+', default=['train', 'val'],
                        choices=('train', 'val'))
    parser.add_argument('--freq-thresholds', type=int, nargs=2, default=(10, 100),
                        metavar=('RARE_MAX', 'COMMON_MAX'),
                        help="training images of the categories' frequency field")
    parser.add_argument('--out-dir', default=None,
                        help='folder of the JSON files (default ROOT/annotations)')
    parser.add_argument('--no-read-sizes', action='store_true',
                        help='assume 64x64 images instead of reading each header')
    parser.add_argument('--mosaic-k', type=int, default=0,
                        help='also write k x k mosaics of the training split (0: none)')
    parser.add_argument('--mosaic-canvas', type=int, default=128)
    parser.add_argument('--mosaic-seed', type=int, default=None,
                        help='seed of the mosaic permutation (default: --seed)')
    parser.add_argument('--mosaic-dir', default=None,
                        help='folder of the canvases (default ROOT/mosaic/<name>)')
    parser.add_argument('--mosaic-ext', default='.png', choices=('.png', '.jpg'))
    parser.add_argument('--max-images', type=int, default=None,
                        help='mosaic only this many (random) LT images (quick checks)')
    return parser.parse_args(argv)


def _ann_path(args, split, mosaic=None):
    rel = default_ann_file(split, args.imb_ratio, args.imb_type, args.seed, mosaic)
    if args.out_dir is None:
        return osp.join(args.root, rel)
    return osp.join(args.out_dir, osp.basename(rel))


def _summary(coco):
    freq = Counter(c['frequency'] for c in coco['categories'])
    return (f"{len(coco['images'])} images, {len(coco['annotations'])} boxes, categories "
            f"r/c/f {freq['r']}/{freq['c']}/{freq['f']}")


def main(argv=None):
    args = parse_args(argv)
    common = dict(imb_ratio=args.imb_ratio, imb_type=args.imb_type, seed=args.seed,
                  freq_thresholds=args.freq_thresholds)
    train = None
    for split in args.splits:
        start = time.time()
        out = _ann_path(args, split)
        coco = build_tiny_imagenet_lt_det(args.root, split, out_file=out,
                                          read_sizes=not args.no_read_sizes, **common)
        if split == 'train':
            train = coco
        print(f'{out}: {_summary(coco)} ({time.time() - start:.1f} s)')
    if args.mosaic_k:
        start = time.time()
        mosaic_seed = args.seed if args.mosaic_seed is None else args.mosaic_seed
        out = _ann_path(args, 'train',
                        dict(k=args.mosaic_k, canvas=args.mosaic_canvas, seed=mosaic_seed))
        coco = build_tiny_imagenet_lt_det_mosaic(
            args.root, args.mosaic_dir, k=args.mosaic_k, canvas=args.mosaic_canvas,
            mosaic_seed=mosaic_seed, max_images=args.max_images, out_file=out,
            ext=args.mosaic_ext, source=train, **common)
        print(f'{out}: {_summary(coco)} ({time.time() - start:.1f} s); canvases under '
              f"{osp.join(args.root, osp.dirname(coco['images'][0]['file_name']))}")


if __name__ == '__main__':
    main()
