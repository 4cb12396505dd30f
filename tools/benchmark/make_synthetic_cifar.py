"""Write random 32 x 32 JPEG images in the layout of the CIFAR-10 JPEG release.

``<out>/{train,test}/<class>/NNNN.jpg``: ``--per-class`` training and ``--test-per-class`` test
images for each of CIFAR-10's class names, so that ``CIFAR10LT`` (and its long-tailed subset)
builds from them. For speed checks on machines without the dataset (``gpu_suite.sh``): the
images are noise, so accuracy on them means nothing; image count, size and decoding cost are
those of the real release.

    python tools/benchmark/make_synthetic_cifar.py data/synthetic-cifar10 --per-class 5000
"""
import argparse
from pathlib import Path

import numpy as np


def make(out: Path, per_class: int, test_per_class: int, seed: int = 0) -> Path:
    import cv2
    from mmpretrain.datasets.categories import CIFAR10_CATEGORIES
    rng = np.random.RandomState(seed)
    for split, num in (('train', per_class), ('test', test_per_class)):
        for name in CIFAR10_CATEGORIES:
            folder = out / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(num):
                img = rng.randint(0, 256, (32, 32, 3), dtype=np.uint8)
                cv2.imwrite(str(folder / f'{i:04d}.jpg'), img)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', type=Path)
    parser.add_argument('--per-class', type=int, default=5000)
    parser.add_argument('--test-per-class', type=int, default=100)
    args = parser.parse_args(argv)
    print(make(args.out, args.per_class, args.test_per_class))


if __name__ == '__main__':
    main()
