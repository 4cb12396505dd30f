"""tools/prepare_data.py: downloads (from small fake releases served as file:// URLs), md5 checks,
unpacked layouts, unpack-once, and the offline --src path."""
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / 'tools' / 'prepare_data.py'


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _tar(path: Path, files: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, 'w:gz') as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _zip(path: Path, files: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, 'w') as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def fake_releases(server: Path) -> dict:
    """Small archives with the public releases' file names and layouts; ``{name: md5}``."""
    cifar10 = {f'cifar-10-batches-py/{n}': n.encode() for n in (
        'data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5',
        'test_batch', 'batches.meta')}
    cifar100 = {f'cifar-100-python/{n}': n.encode() for n in ('train', 'test', 'meta')}
    tiny = {
        'tiny-imagenet-200/wnids.txt': b'n01443537\n',
        'tiny-imagenet-200/words.txt': b'n01443537\tgoldfish\n',
        'tiny-imagenet-200/train/n01443537/images/n01443537_0.JPEG': b'jpeg',
        'tiny-imagenet-200/val/val_annotations.txt': b'val_0.JPEG\tn01443537\t0\t0\t63\t63\n',
        'tiny-imagenet-200/val/images/val_0.JPEG': b'jpeg',
    }
    return {
        'cifar10': _md5(_tar(server / 'cifar-10-python.tar.gz', cifar10)),
        'cifar100': _md5(_tar(server / 'cifar-100-python.tar.gz', cifar100)),
        'tiny-imagenet': _md5(_zip(server / 'tiny-imagenet-200.zip', tiny)),
    }


def run(*args, check=True):
    env = dict(os.environ)
    env.pop('MMLT_SHARED_DATA', None)
    proc = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture
def served(tmp_path):
    server = tmp_path / 'server'
    md5s = fake_releases(server)
    empty = tmp_path / 'empty-src'
    empty.mkdir()
    return server, md5s, empty


def md5_args(md5s):
    return [a for name, md5 in md5s.items() for a in ('--md5', f'{name}={md5}')]


def test_download_verify_unpack_then_nothing(served, tmp_path):
    server, md5s, empty = served
    dst = tmp_path / 'data'
    proc = run('--src', empty, '--dst', dst, '--download', 'cifar10', 'cifar100', 'tiny-imagenet',
               '--url-base', server.as_uri(), *md5_args(md5s))
    for name in ('cifar-10-python.tar.gz', 'cifar-100-python.tar.gz', 'tiny-imagenet-200.zip'):
        assert f'downloading {server.as_uri()}/{name}' in proc.stdout
        # the kept download is the served file, byte for byte
        assert (dst / '.downloads' / name).read_bytes() == (server / name).read_bytes()
    assert '100.0%' in proc.stderr  # the progress bar reached the end
    # the layouts the datasets read: CIFAR10LT / CIFAR100LT(data_root='data/cifar10' / 'cifar100')
    for n in ('data_batch_1', 'data_batch_5', 'test_batch'):
        assert (dst / 'cifar10' / 'cifar-10-batches-py' / n).read_bytes() == n.encode()
    assert (dst / 'cifar100' / 'cifar-100-python' / 'train').is_file()
    assert (dst / 'tiny-imagenet-200' / 'wnids.txt').read_text() == 'n01443537\n'
    assert (dst / 'tiny-imagenet-200' / 'val' / 'val_annotations.txt').is_file()
    for marker in ('.cifar10.done', '.cifar100.done', '.tiny-imagenet-200.done'):
        assert (dst / marker).exists()

    # a second run downloads and unpacks nothing (the server is gone, an unpacked file changed)
    for f in server.iterdir():
        f.unlink()
    (dst / 'cifar10' / 'cifar-10-batches-py' / 'test_batch').write_bytes(b'kept')
    proc = run('--src', empty, '--dst', dst, '--download', 'all', '--url-base', server.as_uri(),
               *md5_args(md5s))
    assert 'downloading' not in proc.stdout and 'unpacking' not in proc.stdout
    for name in md5s:
        assert f'{name}: ready' in proc.stdout
    assert (dst / 'cifar10' / 'cifar-10-batches-py' / 'test_batch').read_bytes() == b'kept'


def test_wrong_md5_names_url_and_both_checksums(served, tmp_path):
    server, md5s, empty = served
    dst = tmp_path / 'data'
    url = (server / 'cifar-10-python.tar.gz').as_uri()
    wrong = '0' * 32
    proc = run('--src', empty, '--dst', dst, '--download', 'cifar10', '--url', f'cifar10={url}',
               '--md5', f'cifar10={wrong}', check=False)
    assert proc.returncode == 1
    assert url in proc.stderr and wrong in proc.stderr and md5s['cifar10'] in proc.stderr
    assert not (dst / '.cifar10.done').exists() and not (dst / 'cifar10').exists()
    assert not any((dst / '.downloads').iterdir())  # neither the file nor a .part left

    # the official md5 applies to a mirror unless --md5 says otherwise
    proc = run('--src', empty, '--dst', dst, '--download', 'cifar100', '--url-base',
               server.as_uri(), check=False)
    assert proc.returncode == 1
    assert 'eb9058c3a382ffc7106e4002c42a8d85' in proc.stderr
    assert (server / 'cifar-100-python.tar.gz').as_uri() in proc.stderr


def test_unreachable_url_is_a_clear_error(served, tmp_path):
    _, _, empty = served
    missing = (tmp_path / 'nowhere' / 'cifar-10-python.tar.gz').as_uri()
    proc = run('--src', empty, '--dst', tmp_path / 'data', '--download', 'cifar10',
               '--url', f'cifar10={missing}', check=False)
    assert proc.returncode == 1
    assert f'cannot download {missing}' in proc.stderr and '--src' in proc.stderr


def test_archive_without_the_release_layout_is_refused(tmp_path):
    server, empty = tmp_path / 'server', tmp_path / 'empty'
    empty.mkdir()
    archive = _tar(server / 'cifar-10-python.tar.gz', {'something/else': b'x'})
    proc = run('--src', empty, '--dst', tmp_path / 'data', '--download', 'cifar10',
               '--url-base', server.as_uri(), '--md5', f'cifar10={_md5(archive)}', check=False)
    assert proc.returncode == 1
    assert 'cifar-10-batches-py' in proc.stderr and archive.as_uri() in proc.stderr
    assert not (tmp_path / 'data' / '.cifar10.done').exists()


def test_previous_download_is_reused(served, tmp_path):
    server, md5s, empty = served
    dst = tmp_path / 'data'
    (dst / '.downloads').mkdir(parents=True)
    (dst / '.downloads' / 'cifar-100-python.tar.gz').write_bytes(
        (server / 'cifar-100-python.tar.gz').read_bytes())
    proc = run('--src', empty, '--dst', dst, '--download', 'cifar100',
               '--url-base', (tmp_path / 'offline').as_uri(), *md5_args(md5s))
    assert 'downloaded before' in proc.stdout and 'downloading' not in proc.stdout
    assert (dst / 'cifar100' / 'cifar-100-python' / 'test').is_file()


def test_src_archives_unpack_offline(tmp_path):
    src, dst = tmp_path / 'src', tmp_path / 'data'
    _tar(src / 'cifar10-jpeg.tar.gz', {
        'CIFAR-10-images/train/airplane/0000.jpg': b'jpeg',
        'CIFAR-10-images/test/airplane/0000.jpg': b'jpeg'})
    _tar(src / 'tiny-imagenet-200.tar.gz', {'tiny-imagenet-200/wnids.txt': b'n01443537\n'})
    # --download tiny-imagenet takes the local archive: the URL given does not exist
    proc = run('--src', src, '--dst', dst, '--download', 'tiny-imagenet',
               '--url-base', (tmp_path / 'offline').as_uri())
    assert 'downloading' not in proc.stdout
    assert (dst / 'CIFAR-10-images' / 'train' / 'airplane' / '0000.jpg').read_bytes() == b'jpeg'
    assert (dst / 'tiny-imagenet-200' / 'wnids.txt').is_file()
    assert (dst / '.CIFAR-10-images.done').exists() and (dst / '.tiny-imagenet-200.done').exists()
    proc = run('--src', src, '--dst', dst)
    assert 'unpacking' not in proc.stdout and proc.stdout.count('ready') == 2


def test_prepare_api_used_by_the_test_fixtures(tmp_path):
    """tests/conftest.py loads the script and calls ``prepare(SHARED, DATA)`` with ARCHIVES."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('prepare_data', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.ARCHIVES['cifar10-jpeg.tar.gz'] == 'CIFAR-10-images'
    _tar(tmp_path / 'src' / 'cifar10-jpeg.tar.gz', {'CIFAR-10-images/train/cat/1.jpg': b'j'})
    module.prepare(tmp_path / 'src', tmp_path / 'data')
    assert (tmp_path / 'data' / 'CIFAR-10-images' / 'train' / 'cat' / '1.jpg').exists()
    assert not (tmp_path / 'data' / '.downloads').exists()  # offline: nothing fetched


def test_unsafe_archive_entries_are_refused(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location('prepare_data', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    bad = _zip(tmp_path / 'bad.zip', {'../escape.txt': b'x'})
    with pytest.raises(module.PrepareError, match='refusing'):
        module.unpack(bad, tmp_path / 'out')
    assert not (tmp_path / 'escape.txt').exists()


def test_bad_options(tmp_path):
    proc = run('--dst', tmp_path / 'data', '--src', tmp_path / 'missing', check=False)
    assert proc.returncode == 2 and 'no such folder' in proc.stderr
    proc = run('--dst', tmp_path / 'data', '--src', tmp_path, '--download', 'cifar10',
               '--md5', 'cifar10', check=False)
    assert proc.returncode == 1 and 'NAME=VALUE' in proc.stderr
    proc = run('--dst', tmp_path / 'data', '--download', 'imagenet', check=False)
    assert proc.returncode == 2 and 'invalid choice' in proc.stderr
