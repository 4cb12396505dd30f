"""Tests of the long-tailed datasets (CIFAR-LT, Tiny-ImageNet-LT, split lists).

References are naive re-implementations of LDAM-DRW's ``imbalance_cifar.py``
(global ``np.random.seed`` + ``np.random.shuffle``) and plain parsers; data
are the real CIFAR-10 JPEG images, Tiny-ImageNet and the public LT split
lists.
"""
import hashlib
import json
import os
import pickle
import shutil
import tarfile
from collections import Counter
from pathlib import Path

import mmcv
import numpy as np
import pytest
from mmpretrain.registry import DATASETS

import mmlt  # noqa: F401  (registers everything)
from mmlt.datasets import (CIFAR10LT, CIFAR100LT, INaturalist2018, ImageNetLT,
                           LTListDataset, PlacesLT, TinyImageNetLT)
from mmlt.datasets.base import (check_imb_ratio, ldam_class_counts,
                                ldam_subsample, split_holdout)

CIFAR10_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog',
                   'frog', 'horse', 'ship', 'truck')
CIFAR10_LT_100 = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]


# --------------------------------------------------------------- references
def ref_img_num_per_cls(img_max, cls_num, imb_type, imb_factor):
    """``get_img_num_per_cls`` of LDAM-DRW's imbalance_cifar.py."""
    img_num_per_cls = []
    if imb_type == 'exp':
        for cls_idx in range(cls_num):
            num = img_max * (imb_factor**(cls_idx / (cls_num - 1.0)))
            img_num_per_cls.append(int(num))
    elif imb_type == 'step':
        for cls_idx in range(cls_num // 2):
            img_num_per_cls.append(int(img_max))
        for cls_idx in range(cls_num // 2):
            img_num_per_cls.append(int(img_max * imb_factor))
    return img_num_per_cls


def ref_gen_imbalanced(targets, img_num_per_cls, rand_number):
    """``np.random.seed`` + ``gen_imbalanced_data`` of LDAM-DRW (global RNG;
    the global state is restored afterwards)."""
    state = np.random.get_state()
    try:
        np.random.seed(rand_number)
        targets_np = np.array(targets, dtype=np.int64)
        classes = np.unique(targets_np)
        keep = []
        for the_class, the_img_num in zip(classes, img_num_per_cls):
            idx = np.where(targets_np == the_class)[0]
            np.random.shuffle(idx)
            keep.extend(idx[:the_img_num].tolist())
        return keep
    finally:
        np.random.set_state(state)


def list_folder(split_dir, classes, key=None):
    """(paths, labels) of ``split_dir/<class>/*`` in class order."""
    paths, labels = [], []
    for label, cls in enumerate(classes):
        names = sorted(os.listdir(split_dir / cls), key=key)
        paths += [str(split_dir / cls / n) for n in names]
        labels += [label] * len(names)
    return paths, labels


def read_pairs(path):
    pairs = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rel, label = line.rsplit(None, 1)
                pairs.append((rel, int(label)))
    return pairs


# --------------------------------------------------------------- base maths
def test_ldam_counts_match_reference_and_paper():
    assert ldam_class_counts(5000, 10, 100) == CIFAR10_LT_100
    assert sum(CIFAR10_LT_100) == 12406
    c100 = ldam_class_counts(500, 100, 100)
    assert c100 == ref_img_num_per_cls(500, 100, 'exp', 0.01)
    assert sum(c100) == 10847 and c100[0] == 500 and c100[-1] == 5
    for ratio in (1, 10, 50, 200, 3.5):
        for imb_type in ('exp', 'step'):
            assert ldam_class_counts(5000, 10, ratio, imb_type) == \
                ref_img_num_per_cls(5000, 10, imb_type, 1 / ratio)
    assert ldam_class_counts(5000, 10, 1) == [5000] * 10
    assert ldam_class_counts(5000, 10, 10, 'step') == [5000] * 5 + [500] * 5
    with pytest.raises(ValueError, match='imb_type'):
        ldam_class_counts(5000, 10, 10, 'linear')


@pytest.mark.parametrize('bad', [0.5, 0, -3, float('nan'), 'abc'])
def test_imb_ratio_below_one_is_rejected(bad):
    with pytest.raises(ValueError, match='imb_ratio') as info:
        check_imb_ratio(bad)
    assert repr(bad) in str(info.value)


def test_subsample_reproduces_ldam_stream_without_global_state():
    rng = np.random.RandomState(123)
    targets = rng.randint(0, 7, size=700)
    counts = [60, 40, 30, 20, 10, 5, 1]
    np.random.seed(99)
    before = np.random.get_state()
    for seed in (0, 1, 2024):
        got = ldam_subsample(targets, counts, seed)
        assert got.tolist() == ref_gen_imbalanced(targets, counts, seed)
    after = np.random.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert np.bincount(targets[got], minlength=7).tolist() == counts


def test_split_holdout_is_disjoint_and_per_class():
    targets = np.repeat(np.arange(5), 12)[::-1].copy()
    val, rest = split_holdout(targets, 5, 3, seed=0)
    assert np.bincount(targets[val]).tolist() == [3] * 5
    assert np.bincount(targets[rest]).tolist() == [9] * 5
    assert sorted(val.tolist() + rest.tolist()) == list(range(60))
    val2, _ = split_holdout(targets, 5, 3, seed=0)
    assert np.array_equal(val, val2)
    with pytest.raises(ValueError, match='class 0 has only 12'):
        split_holdout(targets, 5, 13, seed=0)


# --------------------------------------------------------- CIFAR-10 folders
def test_cifar10lt_folder_ir100(cifar10_jpeg_root):
    ds = DATASETS.build(
        dict(type='CIFAR10LT', data_root=str(cifar10_jpeg_root),
             pipeline=[dict(type='LoadImageFromFile')]))
    assert isinstance(ds, CIFAR10LT)
    assert len(ds) == 12406
    counts = ds.get_class_counts()
    assert counts.dtype == np.int64 and counts.tolist() == CIFAR10_LT_100
    assert ds.metainfo['class_counts'] == CIFAR10_LT_100
    assert tuple(ds.metainfo['classes']) == CIFAR10_CLASSES
    # the same subset as LDAM-DRW's code run on the natural file order
    paths, labels = list_folder(cifar10_jpeg_root / 'train', CIFAR10_CLASSES)
    keep = ref_gen_imbalanced(labels, CIFAR10_LT_100, 0)
    assert [ds.get_data_info(i)['img_path'] for i in range(len(ds))
            ] == [paths[k] for k in keep]
    assert ds.get_gt_labels().tolist() == [labels[k] for k in keep]
    # decode a couple: label = class folder, pixels = the file's pixels
    for i in (0, len(ds) - 1):
        out = ds[i]
        path = Path(out['img_path'])
        assert CIFAR10_CLASSES[out['gt_label']] == path.parent.name
        assert ds.get_cat_ids(i) == [out['gt_label']]
        assert out['img'].shape == (32, 32, 3)
        np.testing.assert_array_equal(out['img'], mmcv.imread(str(path)))


def test_cifar10lt_seed_step_and_balanced(cifar10_jpeg_root):
    kw = dict(serialize_data=False)  # keep it fast (no gc.collect)
    a = CIFAR10LT(str(cifar10_jpeg_root), imb_ratio=10, seed=0, **kw)
    b = CIFAR10LT(str(cifar10_jpeg_root), imb_ratio=10, seed=1, **kw)
    assert a.get_class_counts().tolist() == b.get_class_counts().tolist() \
        == ldam_class_counts(5000, 10, 10)
    pa = {a.get_data_info(i)['img_path'] for i in range(len(a))}
    pb = {b.get_data_info(i)['img_path'] for i in range(len(b))}
    assert pa != pb
    step = CIFAR10LT(str(cifar10_jpeg_root), imb_ratio=10, imb_type='step',
                     **kw)
    assert step.get_class_counts().tolist() == [5000] * 5 + [500] * 5
    bal = CIFAR10LT(str(cifar10_jpeg_root), imb_ratio=1, **kw)
    assert bal.get_class_counts().tolist() == [5000] * 10


def test_cifar10lt_test_and_val_splits(cifar10_jpeg_root):
    root = str(cifar10_jpeg_root)
    test = CIFAR10LT(root, split='test', test_mode=True)
    assert len(test) == 10000
    assert test.get_class_counts().tolist() == [1000] * 10
    assert test.metainfo['class_counts'] == CIFAR10_LT_100  # training counts
    val = CIFAR10LT(root, split='val', val_per_class=50, seed=3)
    rest = CIFAR10LT(root, split='test', val_per_class=50, seed=3)
    assert val.get_class_counts().tolist() == [50] * 10
    assert rest.get_class_counts().tolist() == [950] * 10
    pv = {val.get_data_info(i)['img_path'] for i in range(len(val))}
    pr = {rest.get_data_info(i)['img_path'] for i in range(len(rest))}
    pt = {test.get_data_info(i)['img_path'] for i in range(len(test))}
    assert not pv & pr and pv | pr == pt
    assert all('/test/' in p for p in pv)
    with pytest.raises(ValueError, match='val_per_class > 0'):
        CIFAR10LT(root, split='val')
    with pytest.raises(ValueError, match='split'):
        CIFAR10LT(root, split='valid')


def test_cifar10lt_bad_ratio_and_empty_class(cifar10_jpeg_root):
    with pytest.raises(ValueError, match=r'imb_ratio.*0\.5'):
        CIFAR10LT(str(cifar10_jpeg_root), imb_ratio=0.5)
    # 5000 * (1/1e4) ** (9/9) = 0.5 -> int 0 images for 'truck'
    with pytest.raises(ValueError, match=r"imb_ratio=10000.*truck"):
        CIFAR10LT(str(cifar10_jpeg_root), imb_ratio=10000)


def test_cifar_missing_release_names_directory(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        CIFAR10LT(str(tmp_path / 'nowhere'))
    msg = str(info.value)
    assert 'nowhere' in msg and 'cifar-10-batches-py' in msg
    assert 'train/<class_name>/<image>' in msg


# --------------------------------------------------- CIFAR pickle releases
def _real_images(cifar10_jpeg_root, per_class, split='train'):
    """RGB uint8 images of the first ``per_class`` files of each class."""
    imgs, labels, paths = [], [], []
    for label, cls in enumerate(CIFAR10_CLASSES):
        for name in sorted(os.listdir(cifar10_jpeg_root / split / cls))[
                :per_class]:
            path = cifar10_jpeg_root / split / cls / name
            imgs.append(mmcv.imread(str(path), channel_order='rgb'))
            labels.append(label)
            paths.append(path)
    return np.stack(imgs), labels, paths


def _write_cifar10_pickles(folder, train, test):
    """The layout of cifar-10-python.tar.gz from (imgs, labels) pairs."""
    folder.mkdir(parents=True)
    imgs, labels = train
    chunks = np.array_split(np.arange(len(labels)), 5)
    for b, idx in enumerate(chunks, 1):
        entry = dict(data=imgs[idx].transpose(0, 3, 1, 2).reshape(-1, 3072),
                     labels=[labels[i] for i in idx])
        (folder / f'data_batch_{b}').write_bytes(pickle.dumps(entry))
    imgs, labels = test
    entry = dict(data=imgs.transpose(0, 3, 1, 2).reshape(-1, 3072),
                 labels=list(labels))
    (folder / 'test_batch').write_bytes(pickle.dumps(entry))
    (folder / 'batches.meta').write_bytes(
        pickle.dumps(dict(label_names=list(CIFAR10_CLASSES))))


@pytest.fixture(scope='module')
def cifar10_small(cifar10_jpeg_root, tmp_path_factory):
    """A small pickle release (12 train / 3 test real images per class),
    a folder release of the same files and a tar.gz of the pickles."""
    tmp = tmp_path_factory.mktemp('cifar_small')
    train = _real_images(cifar10_jpeg_root, 12)
    test = _real_images(cifar10_jpeg_root, 3, 'test')
    # classes interleaved in the pickle, as in the real release
    order = np.random.RandomState(0).permutation(len(train[1]))
    shuffled = (train[0][order], [train[1][i] for i in order])
    _write_cifar10_pickles(tmp / 'pickle' / 'cifar-10-batches-py', shuffled,
                           test[:2])
    for split, (_, labels, paths) in (('train', train), ('test', test)):
        for label, path in zip(labels, paths):
            dst = tmp / 'folder' / split / CIFAR10_CLASSES[label]
            dst.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dst / path.name)
    archive = tmp / 'cifar-10-python.tar.gz'
    with tarfile.open(archive, 'w:gz') as tar:
        tar.add(tmp / 'pickle' / 'cifar-10-batches-py', 'cifar-10-batches-py')
    return dict(root=tmp, train=shuffled, test=test, order=order,
                archive=archive)


def test_cifar10lt_pickle_release(cifar10_small):
    imgs, labels = cifar10_small['train']
    ds = CIFAR10LT(str(cifar10_small['root'] / 'pickle'), imb_ratio=4, seed=5)
    expect = ref_img_num_per_cls(12, 10, 'exp', 0.25)
    assert ds.get_class_counts().tolist() == expect
    assert ds.metainfo['class_counts'] == expect
    keep = ref_gen_imbalanced(labels, expect, 5)
    assert len(ds) == len(keep) == sum(expect)
    for i, k in enumerate(keep):
        info = ds.get_data_info(i)
        assert info['gt_label'] == labels[k]
        # HWC uint8 in the release's RGB order, as mmpretrain's CIFAR10
        np.testing.assert_array_equal(info['img'], imgs[k])
    test = CIFAR10LT(str(cifar10_small['root'] / 'pickle'), split='test',
                     imb_ratio=4)
    assert test.get_class_counts().tolist() == [3] * 10
    assert test.metainfo['class_counts'] == expect
    np.testing.assert_array_equal(
        test.get_data_info(4)['img'], cifar10_small['test'][0][4])


def test_cifar10lt_pickle_matches_mmpretrain_cifar10(cifar10_small):
    from mmpretrain.datasets import CIFAR10

    # mmpretrain's md5 checks would reject the small release: skip them
    class PlainCIFAR10(CIFAR10):
        train_list = [[n, None] for n, _ in CIFAR10.train_list]
        test_list = [[n, None] for n, _ in CIFAR10.test_list]
        meta = dict(CIFAR10.meta, md5=None)

    ref = PlainCIFAR10(str(cifar10_small['root'] / 'pickle'), download=False)
    ds = CIFAR10LT(str(cifar10_small['root'] / 'pickle'), imb_ratio=1)
    labels = cifar10_small['train'][1]
    keep = ref_gen_imbalanced(labels, [12] * 10, 0)
    for i in (0, 7, 50, len(ds) - 1):
        np.testing.assert_array_equal(
            ds.get_data_info(i)['img'], ref.get_data_info(keep[i])['img'])
        assert ds.get_data_info(i)['gt_label'] == \
            ref.get_data_info(keep[i])['gt_label']


def test_cifar10lt_folder_and_pickle_agree(cifar10_small):
    """Same images, two layouts: the same classes and pixels line up."""
    root = cifar10_small['root']
    folder = CIFAR10LT(str(root / 'folder'), imb_ratio=3,
                       pipeline=[dict(type='LoadImageFromFile')])
    assert folder.get_class_counts().tolist() == ldam_class_counts(
        12, 10, 3)
    # undo the pickle's interleaving: the folder's per-class file order
    inv = np.argsort(cifar10_small['order'])
    sorted_imgs = cifar10_small['train'][0][inv]
    sorted_labels = [cifar10_small['train'][1][i] for i in inv]
    keep = ref_gen_imbalanced(sorted_labels, ldam_class_counts(12, 10, 3), 0)
    for i in (0, len(folder) - 1):
        out = folder[i]
        assert out['gt_label'] == sorted_labels[keep[i]]
        # LoadImageFromFile gives BGR; the pickle release holds RGB
        np.testing.assert_array_equal(out['img'][..., ::-1],
                                      sorted_imgs[keep[i]])


def test_cifar10lt_download_from_file_url(cifar10_small, tmp_path,
                                          monkeypatch):
    archive = cifar10_small['archive']
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setattr(CIFAR10LT, 'url', archive.as_uri())
    monkeypatch.setattr(CIFAR10LT, 'tgz_md5', md5)
    root = tmp_path / 'dl'
    with pytest.raises(FileNotFoundError, match='download=True'):
        CIFAR10LT(str(root))
    ds = CIFAR10LT(str(root), download=True, imb_ratio=4, seed=5)
    assert (root / 'cifar-10-batches-py' / 'test_batch').is_file()
    ref = CIFAR10LT(str(cifar10_small['root'] / 'pickle'), imb_ratio=4,
                    seed=5)
    assert ds.get_gt_labels().tolist() == ref.get_gt_labels().tolist()
    np.testing.assert_array_equal(ds.get_data_info(3)['img'],
                                  ref.get_data_info(3)['img'])
    # a corrupted download is refused by the md5 check
    monkeypatch.setattr(CIFAR10LT, 'tgz_md5', '0' * 32)
    with pytest.raises(RuntimeError, match='corrupted'):
        CIFAR10LT(str(tmp_path / 'dl2'), download=True)


def test_cifar100lt_counts_on_synthetic_release(tmp_path):
    folder = tmp_path / 'cifar-100-python'
    folder.mkdir()
    labels = np.tile(np.arange(100), 500)  # 500 per class, interleaved
    data = np.zeros((len(labels), 3072), dtype=np.uint8)
    data[:, 0] = labels  # red value of pixel (0, 0) = label
    data[:, 1024] = 255 - labels  # green value of pixel (0, 0)
    (folder / 'train').write_bytes(
        pickle.dumps(dict(data=data, fine_labels=labels.tolist())))
    test_labels = np.tile(np.arange(100), 4)
    (folder / 'test').write_bytes(
        pickle.dumps(
            dict(data=np.zeros((400, 3072), dtype=np.uint8),
                 fine_labels=test_labels.tolist())))
    ds = CIFAR100LT(str(tmp_path), serialize_data=False)
    expect = [int(500 * 0.01**(i / 99)) for i in range(100)]
    assert len(ds) == sum(expect) == 10847
    assert ds.get_class_counts().tolist() == expect
    assert ds.metainfo['classes'][:3] == ('apple', 'aquarium_fish', 'baby')
    keep = ref_gen_imbalanced(labels, expect, 0)
    for i in (0, 1000, len(ds) - 1):
        info = ds.get_data_info(i)
        assert info['gt_label'] == labels[keep[i]]
        assert info['img'][0, 0].tolist() == [
            labels[keep[i]], 255 - labels[keep[i]], 0
        ]
    val = CIFAR100LT(str(tmp_path), split='val', val_per_class=1,
                     serialize_data=False)
    assert val.get_class_counts().tolist() == [1] * 100
    assert val.metainfo['class_counts'] == expect


# ------------------------------------------------------- Tiny-ImageNet-LT
def test_tiny_imagenet_lt_train(tiny_imagenet_root):
    ds = DATASETS.build(
        dict(type='TinyImageNetLT', data_root=str(tiny_imagenet_root),
             pipeline=[dict(type='LoadImageFromFile')]))
    expect = [int(500 * 0.01**(i / 199)) for i in range(200)]
    assert expect[0] == 500 and expect[-1] == 5
    assert len(ds) == sum(expect)
    assert ds.get_class_counts().tolist() == expect
    assert ds.metainfo['class_counts'] == expect
    wnids = sorted((tiny_imagenet_root / 'wnids.txt').read_text().split())
    assert ds.metainfo['wnids'] == wnids
    words = dict(
        line.split('\t', 1)
        for line in (tiny_imagenet_root /
                     'words.txt').read_text().splitlines())
    assert ds.metainfo['classes'][17] == words[wnids[17]]
    # ImageFolder order + LDAM stream
    paths, labels = [], []
    for label, wnid in enumerate(wnids):
        d = tiny_imagenet_root / 'train' / wnid / 'images'
        names = sorted(os.listdir(d))
        paths += [str(d / n) for n in names]
        labels += [label] * len(names)
    keep = ref_gen_imbalanced(labels, expect, 0)
    assert [ds.get_data_info(i)['img_path'] for i in range(len(ds))
            ] == [paths[k] for k in keep]
    out = ds[len(ds) - 1]
    assert Path(out['img_path']).parts[-3] == wnids[out['gt_label']]
    assert out['img'].shape == (64, 64, 3)


def test_tiny_imagenet_lt_test_and_val(tiny_imagenet_root):
    test = TinyImageNetLT(str(tiny_imagenet_root), split='test', imb_ratio=10)
    assert len(test) == 10000
    assert test.get_class_counts().tolist() == [50] * 200
    assert test.metainfo['class_counts'] == ldam_class_counts(
        500, 200, 10)
    wnids = sorted((tiny_imagenet_root / 'wnids.txt').read_text().split())
    ann = (tiny_imagenet_root / 'val' / 'val_annotations.txt').read_text()
    first = ann.splitlines()[0].split('\t')
    info = test.get_data_info(0)
    assert info['img_path'].endswith(first[0])
    assert wnids[info['gt_label']] == first[1]
    val = TinyImageNetLT(str(tiny_imagenet_root), split='val',
                         val_per_class=10)
    rest = TinyImageNetLT(str(tiny_imagenet_root), split='test',
                          val_per_class=10)
    assert val.get_class_counts().tolist() == [10] * 200
    assert rest.get_class_counts().tolist() == [40] * 200
    pv = {val.get_data_info(i)['img_path'] for i in range(len(val))}
    pr = {rest.get_data_info(i)['img_path'] for i in range(len(rest))}
    assert not pv & pr and len(pv | pr) == 10000
    with pytest.raises(ValueError, match='val_per_class > 0'):
        TinyImageNetLT(str(tiny_imagenet_root), split='val')
    with pytest.raises(ValueError, match='imb_ratio'):
        TinyImageNetLT(str(tiny_imagenet_root), imb_ratio=0.9)


# ----------------------------------------------------------- split lists
@pytest.mark.parametrize(
    'cls, rel, total, per_class',
    [(ImageNetLT, 'ImageNet_LT/ImageNet_LT_val.txt', 20000, 20),
     (ImageNetLT, 'ImageNet_LT/ImageNet_LT_test.txt', 50000, 50),
     (PlacesLT, 'Places_LT/Places_LT_val.txt', 7300, 20),
     (PlacesLT, 'Places_LT/Places_LT_test.txt', 36500, 100),
     (INaturalist2018, 'iNaturalist18/iNaturalist18_val.txt', 24426, 3)])
def test_real_eval_lists(lt_splits_root, cls, rel, total, per_class):
    ds = cls(str(lt_splits_root / rel), data_prefix='/imgs', test_mode=True)
    counts = ds.get_class_counts()
    assert len(ds) == total
    assert counts.tolist() == [per_class] * cls.NUM_CLASSES
    assert 'class_counts' not in ds.metainfo  # no training info given
    assert len(ds.metainfo['classes']) == cls.NUM_CLASSES
    pairs = read_pairs(lt_splits_root / rel)
    for i in (0, total // 2, total - 1):
        info = ds.get_data_info(i)
        assert info['img_path'] == '/imgs/' + pairs[i][0]
        assert info['gt_label'] == pairs[i][1] == ds.get_cat_ids(i)[0]


def test_places_lt_train_list_and_train_counts(lt_splits_root):
    train_file = lt_splits_root / 'Places_LT' / 'Places_LT_train.txt'
    train = PlacesLT(str(train_file))
    counts = train.get_class_counts()
    assert len(train) == 62500 and len(counts) == 365
    assert counts.max() == 4980 and counts.min() == 5
    ref = Counter(label for _, label in read_pairs(train_file))
    assert counts.tolist() == [ref[c] for c in range(365)]
    assert train.metainfo['class_counts'] == counts.tolist()
    val = DATASETS.build(
        dict(type='PlacesLT', data_root=str(lt_splits_root / 'Places_LT'),
             ann_file='Places_LT_val.txt',
             train_ann_file='Places_LT_train.txt',
             test_mode=True))
    assert len(val) == 7300
    assert val.metainfo['class_counts'] == counts.tolist()


def test_dscl_json_and_class_number_file(lt_splits_root):
    alt = lt_splits_root / 'alt'
    js = ImageNetLT(str(alt / 'DSCL_ImageNet_LT_val.json'),
                    class_counts_file=str(
                        alt / 'DSCL_ImageNet_LT_train_class_number.json'),
                    test_mode=True)
    txt = ImageNetLT(str(lt_splits_root / 'ImageNet_LT' /
                         'ImageNet_LT_val.txt'), test_mode=True)
    assert len(js) == len(txt) == 20000
    assert [js.get_data_info(i)['img_path'] for i in range(len(js))] == \
        [txt.get_data_info(i)['img_path'] for i in range(len(txt))]
    assert js.get_gt_labels().tolist() == txt.get_gt_labels().tolist()
    cc = js.metainfo['class_counts']
    raw = json.loads(
        (alt / 'DSCL_ImageNet_LT_train_class_number.json').read_text())
    assert cc == [raw[str(c)] for c in range(1000)]
    assert sum(cc) == 115846 and max(cc) == 1280 and min(cc) == 5
    assert js.metainfo['classes'][0].startswith('tench')
    # num_classes may come from the JSON file alone
    generic = LTListDataset(str(alt / 'DSCL_ImageNet_LT_val.json'))
    assert generic.num_classes == 1000 and len(generic) == 20000


# ----------------------------------------------------------- list errors
def _write(path, text):
    path.write_text(text)
    return str(path)


def test_text_list_parsing_spaces_and_blank_lines(tmp_path):
    ann = _write(tmp_path / 'l.txt',
                 'a/my photo 1.jpg 2\n\n  b/x.jpg\t0  \nc/y z.png 1\n')
    ds = LTListDataset(ann, data_prefix='/root', num_classes=3)
    assert [ds.get_data_info(i)['img_path'] for i in range(3)] == [
        '/root/a/my photo 1.jpg', '/root/b/x.jpg', '/root/c/y z.png'
    ]
    assert ds.get_gt_labels().tolist() == [2, 0, 1]
    assert ds.metainfo['class_counts'] == [1, 1, 1]
    assert ds.metainfo['classes'] == ('0', '1', '2')


@pytest.mark.parametrize('text, match', [
    ('a.jpg 0\nb.jpg 5\n', r'l\.txt:2: label 5 outside \[0, 3\)'),
    ('a.jpg 0\n\nb.jpg -1\n', r'l\.txt:3: label -1 outside \[0, 3\)'),
    ('a.jpg 0\nb.jpg one\n', r"l\.txt:2: label 'one' is not an integer"),
    ('a.jpg 0\nlonely\n', r'l\.txt:2: expected'),
])
def test_text_list_errors_name_file_and_line(tmp_path, text, match):
    ann = _write(tmp_path / 'l.txt', text)
    with pytest.raises(ValueError, match=match):
        LTListDataset(ann, num_classes=3)


def test_text_list_bom_and_crlf(tmp_path):
    # a list saved by a Windows editor: BOM before the first path, CRLF ends
    ann = tmp_path / 'l.txt'
    ann.write_bytes('a/x.jpg 1\r\nb/y.jpg 0\r\n'.encode('utf-8-sig'))
    assert ann.read_bytes().startswith(b'\xef\xbb\xbf')
    ds = LTListDataset(str(ann), data_prefix='/root', num_classes=2)
    assert [ds.get_data_info(i)['img_path'] for i in range(2)] == [
        '/root/a/x.jpg', '/root/b/y.jpg'
    ]
    assert ds.get_gt_labels().tolist() == [1, 0]
    js = tmp_path / 'l.json'
    js.write_bytes(json.dumps(dict(num_classes=2, annotations=[
        dict(fpath='a/x.jpg', category_id=1)])).encode('utf-8-sig'))
    assert LTListDataset(str(js), test_mode=True).get_gt_labels().tolist() \
        == [1]


@pytest.mark.parametrize('text, match', [
    ('a.jpg 0\nb.jpg 1\n./a.jpg 2\n',
     r"l\.txt:3: './a\.jpg' has label 2, but .*l\.txt:1 gives it label 0"),
    ('a.jpg 0\n../secret.jpg 1\n', r"l\.txt:2: path '\.\./secret\.jpg' "
     'leaves the image root'),
    ('a/../../b.jpg 0\n', r'l\.txt:1: path .* leaves the image root'),
    ('/etc/passwd 0\n', r"l\.txt:1: path '/etc/passwd' leaves"),
])
def test_text_list_duplicates_and_escaping_paths(tmp_path, text, match):
    ann = _write(tmp_path / 'l.txt', text)
    with pytest.raises(ValueError, match=match):
        LTListDataset(ann, num_classes=3)


def test_list_same_image_twice_with_one_label_is_kept(tmp_path):
    # repeated entries with the same label are legal (oversampled lists)
    ann = _write(tmp_path / 'l.txt', 'a.jpg 0\nb.jpg 1\na.jpg 0\nc/../c.jpg 2'
                 '\n')
    assert len(LTListDataset(ann, num_classes=3)) == 4


def test_json_list_duplicates_and_escaping_paths(tmp_path):
    def js(anns):
        return _write(tmp_path / 'a.json',
                      json.dumps(dict(num_classes=3, annotations=anns)))

    a0 = dict(fpath='a.jpg', category_id=0)
    with pytest.raises(ValueError, match=r"annotation 1: 'a\.jpg' has label 1"
                       r', but .*annotation 0 gives it label 0'):
        LTListDataset(js([a0, dict(fpath='a.jpg', category_id=1)]),
                      test_mode=True)
    with pytest.raises(ValueError, match=r'annotation 1: path .* leaves'):
        LTListDataset(js([a0, dict(fpath='../x.jpg', category_id=1)]),
                      test_mode=True)
    with pytest.raises(ValueError, match=r'annotation 0: fpath 3 is not'):
        LTListDataset(js([dict(fpath=3, category_id=1)]), test_mode=True)


def test_list_errors_missing_files_and_empty_classes(tmp_path):
    missing = tmp_path / 'nope' / 'ImageNet_LT_train.txt'
    with pytest.raises(FileNotFoundError, match=str(missing)):
        ImageNetLT(str(missing))
    ann = _write(tmp_path / 'l.txt', 'a.jpg 0\nb.jpg 2\n')
    with pytest.raises(ValueError, match=r'l\.txt.*class 1'):
        LTListDataset(ann, num_classes=3)
    with pytest.raises(ValueError, match='num_classes is required'):
        LTListDataset(ann)
    # an evaluation list is not a training list: no check, no counts
    ev = LTListDataset(ann, num_classes=3, test_mode=True)
    assert 'class_counts' not in ev.metainfo
    assert ev.get_class_counts().tolist() == [1, 0, 1]
    # ... but its training list is checked
    with pytest.raises(ValueError, match=r'train\.txt.*class 1'):
        LTListDataset(ann, num_classes=3, test_mode=True,
                      train_ann_file=_write(tmp_path / 'train.txt', 'a 0\n'
                                            'b 2\n'))
    counts_file = _write(tmp_path / 'n.json', '{"0": 4, "2": 1}')
    with pytest.raises(ValueError, match=r'n\.json.*class 1'):
        LTListDataset(ann, num_classes=3, test_mode=True,
                      class_counts_file=counts_file)
    ok = LTListDataset(ann, num_classes=3, test_mode=True,
                       class_counts_file=counts_file,
                       check_empty_classes=False)
    assert ok.metainfo['class_counts'] == [4, 0, 1]
    with pytest.raises(FileNotFoundError, match='missing.json'):
        LTListDataset(ann, num_classes=3, test_mode=True,
                      class_counts_file=str(tmp_path / 'missing.json'))


def test_json_list_errors_name_file_and_index(tmp_path):
    def js(anns, n=3):
        return _write(tmp_path / 'a.json',
                      json.dumps(dict(num_classes=n, annotations=anns)))

    good = dict(fpath='a.jpg', category_id=0)
    with pytest.raises(ValueError, match=r'a\.json: annotation 1: label 7'):
        LTListDataset(js([good, dict(fpath='b.jpg', category_id=7)]),
                      test_mode=True)
    with pytest.raises(ValueError, match=r'a\.json: annotation 0: expected'):
        LTListDataset(js([dict(path='a.jpg', category_id=0)]),
                      test_mode=True)
    with pytest.raises(ValueError, match=r'annotation 0: category_id'):
        LTListDataset(js([dict(fpath='a.jpg', category_id='0')]),
                      test_mode=True)
    with pytest.raises(ValueError, match=r'num_classes 3 in the file'):
        LTListDataset(js([good]), num_classes=5, test_mode=True)


def test_unreadable_image_error_names_file(tmp_path, cifar10_jpeg_root):
    good = tmp_path / 'good.jpg'
    shutil.copy(cifar10_jpeg_root / 'test' / 'cat' / '0000.jpg', good)
    rng = np.random.RandomState(0)
    (tmp_path / 'corrupt.jpg').write_bytes(b'\xff\xd8\xff\xe0' +
                                           rng.bytes(500))
    (tmp_path / 'empty.jpg').write_bytes(b'')
    ann = _write(tmp_path / 'l.txt',
                 'good.jpg 3\ncorrupt.jpg 1\nempty.jpg 2\n')
    ds = LTListDataset(ann, data_prefix=str(tmp_path), num_classes=10,
                       test_mode=True,
                       pipeline=[dict(type='LoadImageFromFile')])
    out = ds[0]
    assert out['gt_label'] == 3 and out['img'].shape == (32, 32, 3)
    for i, name in ((1, 'corrupt.jpg'), (2, 'empty.jpg')):
        with pytest.raises(Exception) as info:
            ds[i]
        assert str(tmp_path / name) in str(info.value)


def test_all_datasets_registered():
    for name, cls in (('CIFAR10LT', CIFAR10LT), ('CIFAR100LT', CIFAR100LT),
                      ('TinyImageNetLT', TinyImageNetLT),
                      ('LTListDataset', LTListDataset),
                      ('ImageNetLT', ImageNetLT), ('PlacesLT', PlacesLT),
                      ('INaturalist2018', INaturalist2018)):
        assert DATASETS.get(name) is cls


def test_preload_decodes_each_image_once_like_load_image_from_file(cifar10_jpeg_root):
    """preload=True: the entries hold the decoded BGR images (LoadImageFromFile's result), only
    for the samples that `indices` keeps."""
    from mmcv.transforms import LoadImageFromFile
    ds = CIFAR10LT(data_root=str(cifar10_jpeg_root), split='train', preload=True,
                   indices=[0, 5000, 12405], pipeline=[])
    ref = CIFAR10LT(data_root=str(cifar10_jpeg_root), split='train', pipeline=[])
    assert len(ds) == 3
    for i, j in enumerate([0, 5000, 12405]):
        info, ref_info = ds.get_data_info(i), ref.get_data_info(j)
        loaded = LoadImageFromFile()(dict(img_path=ref_info['img_path']))['img']
        assert info['img_path'] == ref_info['img_path']
        np.testing.assert_array_equal(info['img'], loaded)
        assert info['img_shape'] == (32, 32) and info['gt_label'] == ref_info['gt_label']
    np.testing.assert_array_equal(ds.get_class_counts(), np.bincount(
        [ref.get_data_info(j)['gt_label'] for j in (0, 5000, 12405)], minlength=10))


def test_preload_and_verify_show_progress_on_large_splits(monkeypatch, cifar10_jpeg_root):
    """From PROGRESS_MIN_IMAGES images on, preload / verify draw a progress bar that ends at
    the number of images; below it they draw none."""
    import io

    import mmengine.utils
    import mmlt.datasets.base as base
    bars = []

    class RecordingBar(mmengine.utils.ProgressBar):
        def __init__(self, task_num, *args, **kwargs):
            super().__init__(task_num, *args, file=io.StringIO(), **kwargs)
            bars.append(self)

    monkeypatch.setattr(mmengine.utils, 'ProgressBar', RecordingBar)
    monkeypatch.setattr(base, 'PROGRESS_MIN_IMAGES', 250)
    CIFAR10LT(data_root=str(cifar10_jpeg_root), split='train', preload=True, verify=True,
              indices=list(range(300)), pipeline=[])
    assert [(b.task_num, b.completed) for b in bars] == [(300, 300)] * 2  # verify, preload
    assert all('300/300' in b.file.getvalue() for b in bars)
    bars.clear()
    CIFAR10LT(data_root=str(cifar10_jpeg_root), split='train', preload=True, verify=True,
              indices=list(range(200)), pipeline=[])
    assert bars == []


def test_preload_names_an_unreadable_file(tmp_path, cifar10_jpeg_root):
    shutil.copy(cifar10_jpeg_root / 'test' / 'cat' / '0000.jpg', tmp_path / 'good.jpg')
    (tmp_path / 'corrupt.jpg').write_bytes(b'\xff\xd8\xff\xe0' + b'\x00' * 300)
    ann = _write(tmp_path / 'l.txt', 'good.jpg 3\ncorrupt.jpg 1\n')
    with pytest.raises(OSError, match='corrupt.jpg'):
        LTListDataset(ann, data_prefix=str(tmp_path), num_classes=10, test_mode=True,
                      preload=True)
