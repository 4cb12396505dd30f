"""Unpack the offline dataset releases into ``data/`` (the paths the configs expect).

    python tools/prepare_data.py [--src ../shared/data] [--dst data]

``--src`` holds ``cifar10-jpeg.tar.gz`` (-> ``data/CIFAR-10-images``) and
``tiny-imagenet-200.tar.gz`` (-> ``data/tiny-imagenet-200``); each is unpacked once. With internet,
CIFAR-10/100 pickle releases can instead be downloaded by the datasets themselves
(``download=True``).
"""
import argparse
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCHIVES = {
    'cifar10-jpeg.tar.gz': 'CIFAR-10-images',
    'tiny-imagenet-200.tar.gz': 'tiny-imagenet-200',
}


def prepare(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for archive, folder in ARCHIVES.items():
        marker = dst / f'.{folder}.done'
        if marker.exists():
            print(f'{dst / folder}: ready')
            continue
        path = src / archive
        if not path.exists():
            print(f'{path}: not found, skipped')
            continue
        print(f'unpacking {path} -> {dst / folder}')
        with tarfile.open(path) as tar:
            tar.extractall(dst, filter='data')
        marker.touch()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--src', type=Path, default=ROOT.parent / 'shared' / 'data')
    parser.add_argument('--dst', type=Path, default=ROOT / 'data')
    args = parser.parse_args()
    prepare(args.src, args.dst)


if __name__ == '__main__':
    main()
