"""Put the CIFAR-10/100 and Tiny-ImageNet releases into ``data/`` (the paths the configs expect).

    python tools/prepare_data.py --download cifar10 cifar100 tiny-imagenet  # public releases
    python tools/prepare_data.py --src DIR        # offline: archives in DIR

``--download NAME...`` (or ``all``) fetches the public releases from their authors' addresses with a
progress bar, checks their md5 and unpacks them:

    cifar10        cifar-10-python.tar.gz   -> data/cifar10/cifar-10-batches-py   (pickle release)
    cifar100       cifar-100-python.tar.gz  -> data/cifar100/cifar-100-python    (pickle release)
    tiny-imagenet  tiny-imagenet-200.zip    -> data/tiny-imagenet-200

(``data_root='data/cifar10'`` / ``'data/cifar100'`` for ``CIFAR10LT`` / ``CIFAR100LT``). The
downloaded archives are kept in ``data/.downloads/`` (delete them once unpacked if you need the
space); an archive already there with the right md5 is not fetched again. A wrong md5 stops with
the address, the expected and the received md5. ``--url NAME=URL`` / ``--url-base URL`` fetch from
a mirror (``file://`` works too) and ``--md5 NAME=MD5`` sets the checksum to expect from it.

``--src DIR`` unpacks local archives found in DIR, no network needed: ``cifar10-jpeg.tar.gz``
(the CIFAR-10 JPEG folder release, ``-> data/CIFAR-10-images``, what the CIFAR-10-LT configs read)
and ``tiny-imagenet-200.tar.gz`` (``-> data/tiny-imagenet-200``; ``--download tiny-imagenet`` then
uses it instead of downloading). Everything is unpacked once: ``data/.<folder>.done`` marks it done
and a second run does nothing.

``--dst`` defaults to the ``data/`` folder of the checkout the script is in, and to ``./data`` when
it runs from an installed mmlt (``mim run mmlt prepare_data ...``).
"""
import argparse
import hashlib
import os
import sys
import tarfile
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = ROOT.name == '.mim'  # run from mmlt/.mim/tools of an installed package

# Local archives (--src): archive name -> the folder it unpacks to (its top-level entry).
ARCHIVES = {
    'cifar10-jpeg.tar.gz': 'CIFAR-10-images',
    'tiny-imagenet-200.tar.gz': 'tiny-imagenet-200',
}

# Public releases (--download). ``into``: the folder under dst the archive is unpacked in;
# ``marker``: data/.<marker>.done; ``expect``: paths under dst a correct archive yields.
DOWNLOADS = {
    'cifar10': dict(
        url='https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz',
        md5='c58f30108f718f92721af3b95e74349a',
        into='cifar10',
        marker='cifar10',
        expect=[f'cifar10/cifar-10-batches-py/{name}' for name in (
            'data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5',
            'test_batch')]),
    'cifar100': dict(
        url='https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz',
        md5='eb9058c3a382ffc7106e4002c42a8d85',
        into='cifar100',
        marker='cifar100',
        expect=['cifar100/cifar-100-python/train', 'cifar100/cifar-100-python/test']),
    'tiny-imagenet': dict(
        url='http://cs231n.stanford.edu/tiny-imagenet-200.zip',
        md5='90528d7ca1a48142e341f4ef8d21d0de',
        into='.',
        marker='tiny-imagenet-200',  # shared with tiny-imagenet-200.tar.gz of --src
        expect=['tiny-imagenet-200/wnids.txt', 'tiny-imagenet-200/train',
                'tiny-imagenet-200/val/val_annotations.txt']),
}


class PrepareError(RuntimeError):
    """A download or an archive that cannot be used; the message says which and why."""


def default_src():
    """``$MMLT_SHARED_DATA``; in a checkout, else a ``shared/data`` folder next to it if one
    exists (the archive folder of the development machines); else None."""
    if os.environ.get('MMLT_SHARED_DATA'):
        return Path(os.environ['MMLT_SHARED_DATA'])
    sibling = ROOT.parent / 'shared' / 'data'
    return sibling if not INSTALLED and sibling.is_dir() else None


def default_dst():
    return Path('data') if INSTALLED else ROOT / 'data'


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


class Progress:
    """A one-line progress bar on stderr (a line per 10 % when stderr is not a terminal)."""

    def __init__(self, total, stream=None):
        self.total = total if total and total > 0 else None
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done = 0
        self.last_time = 0.0
        self.last_step = -1
        self.start = time.time()

    def update(self, n: int, final: bool = False):
        self.done += n
        mb = self.done / 2**20
        rate = mb / max(time.time() - self.start, 1e-6)
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = '#' * int(30 * frac)
            text = (f'  [{bar:<30}] {100 * frac:5.1f}%  {mb:.1f}/{self.total / 2**20:.1f} MB'
                    f'  {rate:.1f} MB/s')
            step = int(10 * frac)
        else:
            text = f'  {mb:.1f} MB  {rate:.1f} MB/s'
            step = int(mb // 10)
        if self.tty:
            if final or time.time() - self.last_time > 0.1:
                self.stream.write('\r' + text + ('\n' if final else ''))
                self.stream.flush()
                self.last_time = time.time()
        elif step > self.last_step or (final and not self.total):
            self.stream.write(text + '\n')
            self.stream.flush()
            self.last_step = step


def download(url: str, path: Path, md5: str) -> None:
    """Fetch ``url`` to ``path`` with a progress bar; the file appears only once its md5 is
    ``md5``, else :class:`PrepareError` names the address and both checksums."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + '.part')
    request = urllib.request.Request(url, headers={'User-Agent': 'mmlt-prepare-data'})
    print(f'downloading {url} -> {path}')
    digest = hashlib.md5()
    try:
        with urllib.request.urlopen(request, timeout=60) as response, open(part, 'wb') as f:
            length = response.headers.get('Content-Length')
            bar = Progress(int(length) if length and length.isdigit() else None)
            while True:
                block = response.read(1 << 20)
                if not block:
                    break
                f.write(block)
                digest.update(block)
                bar.update(len(block))
            bar.update(0, final=True)
    except (OSError, ValueError) as e:  # URLError, HTTPError, timeouts, a malformed URL
        part.unlink(missing_ok=True)
        raise PrepareError(f'cannot download {url}: {e}. Without network, unpack a local copy '
                           'with --src DIR, or fetch from a mirror with --url / --url-base') from e
    got = digest.hexdigest()
    if got != md5:
        part.unlink(missing_ok=True)
        raise PrepareError(f'{url}: md5 mismatch: expected {md5}, got {got}; the file is deleted. '
                           'A mirror serving another file needs --md5 NAME=MD5')
    part.replace(path)


def _safe_tar_members(tar: tarfile.TarFile, dst: Path):
    root = dst.resolve()
    for member in tar.getmembers():
        target = (dst / member.name).resolve()
        if not (target == root or root in target.parents) or member.issym() or member.islnk():
            raise PrepareError(f'{tar.name}: refusing to unpack {member.name!r} (leaves {dst} or '
                               'is a link)')
        yield member


def unpack(archive: Path, dst: Path) -> None:
    """Unpack a .tar(.gz) or .zip ``archive`` into ``dst``; no entry may land outside it."""
    dst.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        root = dst.resolve()
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                target = (dst / name).resolve()
                if not (target == root or root in target.parents):
                    raise PrepareError(f'{archive}: refusing to unpack {name!r} (leaves {dst})')
            zf.extractall(dst)
        return
    try:
        tar = tarfile.open(archive)
    except tarfile.TarError as e:
        raise PrepareError(f'{archive}: neither a tar nor a zip archive ({e})') from e
    with tar:
        if hasattr(tarfile, 'data_filter'):
            tar.extractall(dst, filter='data')
        else:  # Python without extraction filters
            tar.extractall(dst, members=_safe_tar_members(tar, dst))


def unpack_local(src: Path, dst: Path) -> None:
    """The ``--src`` step: unpack each archive of :data:`ARCHIVES` found in ``src`` once."""
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
        unpack(path, dst)
        marker.touch()


def resolve_sources(names, urls=None, md5s=None, url_base=None):
    """``{name: (url, md5)}`` for ``names``: the public address and md5, ``url_base`` replacing
    the address up to the file name, ``urls`` / ``md5s`` (``{name: value}``) replacing either."""
    urls, md5s = urls or {}, md5s or {}
    unknown = sorted((set(names) | set(urls) | set(md5s)) - set(DOWNLOADS))
    if unknown:
        raise PrepareError(f'unknown dataset(s) {unknown}; known: {sorted(DOWNLOADS)}')
    sources = {}
    for name in names:
        url = DOWNLOADS[name]['url']
        if url_base:
            url = url_base.rstrip('/') + '/' + url.rsplit('/', 1)[1]
        sources[name] = (urls.get(name, url), md5s.get(name, DOWNLOADS[name]['md5']).lower())
    return sources


def fetch(name: str, url: str, md5: str, dst: Path) -> None:
    """The ``--download`` step of one dataset: download (or reuse a verified download), unpack,
    check the layout, mark it done."""
    spec = DOWNLOADS[name]
    marker = dst / f'.{spec["marker"]}.done'
    if marker.exists():
        print(f'{name}: ready ({marker})')
        return
    filename = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path)).name or f'{name}.archive'
    archive = dst / '.downloads' / filename
    if archive.exists() and md5sum(archive) == md5:
        print(f'{name}: using the archive downloaded before, {archive}')
    else:
        archive.unlink(missing_ok=True)
        download(url, archive, md5)
    into = dst / spec['into']
    print(f'unpacking {archive} -> {into}')
    unpack(archive, into)
    missing = [p for p in spec['expect'] if not (dst / p).exists()]
    if missing:
        raise PrepareError(f'{archive} (from {url}) unpacked without {dst / missing[0]}: not the '
                           f'{name} release this script knows')
    marker.touch()
    print(f'{name}: ready in {dst / spec["expect"][0].split("/")[0]} (archive kept: {archive})')


def prepare(src, dst, download=(), urls=None, md5s=None, url_base=None) -> None:
    """Unpack the local archives of ``src`` (None: none), then fetch the ``download`` datasets not
    ready yet. ``prepare(src, dst)`` is the offline step alone."""
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    names = list(DOWNLOADS) if 'all' in download else list(dict.fromkeys(download))
    sources = resolve_sources(names, urls, md5s, url_base)
    if src is not None:
        unpack_local(Path(src), dst)
    for name, (url, md5) in sources.items():
        fetch(name, url, md5, dst)
    if src is None and not names:
        print('nothing to do: --download cifar10 cifar100 tiny-imagenet fetches the public '
              'releases; --src DIR unpacks ' + ' / '.join(ARCHIVES) + ' from DIR')


def _pairs(option, values):
    pairs = {}
    for value in values or []:
        name, sep, text = value.partition('=')
        if not sep or not name or not text:
            raise PrepareError(f'{option} takes NAME=VALUE, got {value!r}')
        pairs[name] = text
    return pairs


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--download', nargs='+', default=[], metavar='NAME',
                        choices=sorted(DOWNLOADS) + ['all'],
                        help='fetch these public releases (md5-checked): %(choices)s')
    parser.add_argument('--src', type=Path, default=None,
                        help='folder holding ' + ', '.join(ARCHIVES) + ' to unpack (no network); '
                        'default: $MMLT_SHARED_DATA')
    parser.add_argument('--dst', type=Path, default=None,
                        help="where the data goes (default: the checkout's data/; ./data for an "
                        'installed mmlt)')
    parser.add_argument('--url', action='append', metavar='NAME=URL',
                        help='download NAME from URL instead (a mirror; file:// works)')
    parser.add_argument('--url-base', metavar='URL',
                        help='download every file from URL/<file name> (a mirror)')
    parser.add_argument('--md5', action='append', metavar='NAME=MD5',
                        help='the md5 to expect for NAME (with a mirror serving another file)')
    args = parser.parse_args(argv)
    if args.src is not None and not args.src.is_dir():
        parser.error(f'--src {args.src}: no such folder')
    try:
        prepare(args.src if args.src is not None else default_src(),
                args.dst if args.dst is not None else default_dst(),
                download=args.download, urls=_pairs('--url', args.url),
                md5s=_pairs('--md5', args.md5), url_base=args.url_base)
    except PrepareError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
