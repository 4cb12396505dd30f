"""Bad images are found before training (one pass, with their list lines), or skipped in it."""
import shutil
import subprocess
import sys

import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile

from mmlt.datasets import LTListDataset
from mmlt.datasets.verify import check_image, verify_images

REPO = __import__('pathlib').Path(__file__).resolve().parents[1]


@pytest.fixture
def bad_list(tmp_path, cifar10_jpeg_root):
    """A list of 8 images: 4 good ones (2 per class) and 4 bad ones."""
    root = tmp_path / 'images'
    root.mkdir()
    src = sorted((cifar10_jpeg_root / 'train' / 'airplane').glob('*.jpg'))[:3] + \
        sorted((cifar10_jpeg_root / 'train' / 'bird').glob('*.jpg'))[:2]
    for i, p in enumerate(src):
        shutil.copy(p, root / f'good{i}.jpg')
    data = (root / 'good0.jpg').read_bytes()
    (root / 'truncated.jpg').write_bytes(data[:len(data) // 2])
    (root / 'empty.jpg').write_bytes(b'')
    (root / 'text.jpg').write_text('not an image')
    lines = ['good0.jpg 0', 'good1.jpg 0', 'truncated.jpg 1', 'good3.jpg 1', '',
             'missing.jpg 0', 'empty.jpg 1', 'good4.jpg 1', 'text.jpg 0', 'good2.jpg 0']
    ann = tmp_path / 'list.txt'
    ann.write_text('\n'.join(lines) + '\n')
    return ann, root


def test_check_image_reasons(bad_list):
    _, root = bad_list
    assert check_image(str(root / 'good0.jpg')) is None
    assert check_image(str(root / 'missing.jpg')) == 'missing'
    assert check_image(str(root / 'empty.jpg')) == 'empty file'
    assert check_image(str(root / 'truncated.jpg')).startswith('truncated')
    assert check_image(str(root / 'text.jpg')).startswith('cannot decode')
    assert check_image(str(root)).startswith('not readable')
    # the pipeline's loader fails on each of them too
    for name in ('truncated', 'empty', 'text'):
        with pytest.raises(Exception):
            LoadImageFromFile()(dict(img_path=str(root / f'{name}.jpg')))


@pytest.mark.parametrize('workers', [0, 2])
def test_verify_lists_every_bad_image_with_its_line(bad_list, workers):
    ann, root = bad_list
    ds = LTListDataset(str(ann), data_prefix=str(root), num_classes=2, test_mode=True)
    bad = verify_images(ds, num_workers=workers, batch_size=3, progress=False)
    assert [(b.where, b.reason.split(' ')[0]) for b in bad] == [
        (f'{ann}:3', 'truncated'), (f'{ann}:6', 'missing'), (f'{ann}:7', 'empty'),
        (f'{ann}:9', 'cannot')]
    assert str(bad[1]) == f'{ann}:6: {root}/missing.jpg: missing'


def test_dataset_verify_flag_raises_once_listing_all(bad_list):
    ann, root = bad_list
    with pytest.raises(ValueError) as err:
        LTListDataset(str(ann), data_prefix=str(root), num_classes=2, verify=True)
    msg = str(err.value)
    assert 'verify=True): 4 of 9 images cannot be trained on' in msg
    for line, name in ((3, 'truncated'), (6, 'missing'), (7, 'empty'), (9, 'text')):
        assert f'{ann}:{line}: {root}/{name}.jpg' in msg
    # only the images that `indices` keeps are opened
    ok = LTListDataset(str(ann), data_prefix=str(root), num_classes=2, verify=True,
                       indices=[0, 1, 3, 6, 8], test_mode=True)
    assert len(ok) == 5


def test_verify_dataset_tool(bad_list, tmp_path):
    ann, root = bad_list
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        "custom_imports = dict(imports=['mmlt'])\n"
        f"train_dataloader = dict(num_workers=2, dataset=dict(type='LTListDataset', "
        f"ann_file={str(ann)!r}, data_prefix={str(root)!r}, num_classes=2, preload=True, "
        "pipeline=[dict(type='LoadImageFromFile')]))\n")
    out = subprocess.run([sys.executable, 'tools/verify_dataset.py', str(cfg)], cwd=REPO,
                         capture_output=True, text=True)
    assert out.returncode == 1, out.stderr
    assert 'train: LTListDataset: 4 of 9 images bad' in out.stdout
    assert f'{ann}:6: {root}/missing.jpg: missing' in out.stdout
    good = tmp_path / 'good.txt'
    good.write_text('good0.jpg 0\ngood3.jpg 1\n')
    out = subprocess.run([sys.executable, 'tools/verify_dataset.py', str(cfg), '--cfg-options',
                          f'train_dataloader.dataset.ann_file={good}'], cwd=REPO,
                         capture_output=True, text=True)
    assert out.returncode == 0 and '0 of 2 images bad' in out.stdout, out.stdout + out.stderr


def test_skip_bad_images_replaces_with_the_same_class(bad_list, caplog):
    ann, root = bad_list
    pipeline = [dict(type='LoadImageFromFile')]
    strict = LTListDataset(str(ann), data_prefix=str(root), num_classes=2, pipeline=pipeline)
    with pytest.raises(Exception, match='missing.jpg'):
        strict[4]  # entry 4 is missing.jpg (line 6), class 0
    ds = LTListDataset(str(ann), data_prefix=str(root), num_classes=2, pipeline=pipeline,
                       skip_bad_images=True)
    # missing.jpg -> the next class-0 entry in dataset order: text.jpg (bad too) -> good2.jpg
    out = ds[4]
    ref = strict[8]  # good2.jpg
    assert out['gt_label'] == 0 and np.array_equal(out['img'], ref['img'])
    # empty.jpg (class 1, entry 5) -> good4.jpg (entry 6)
    assert np.array_equal(ds[5]['img'], strict[6]['img'])
