"""tools/benchmark/det_results.py: the detection benchmark's commands (their configs and
cfg-options merged as tools/det/train.py merges them) and its section of docs/results.md, written
from run folders."""
import argparse
import importlib.util
import json
import shlex
import shutil
from pathlib import Path

import pytest
from mmengine.config import Config, DictAction

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / f'tools/benchmark/{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


det_results = _load('det_results')
lt_results = _load('lt_results')


def commands(wd):
    return [shlex.split(ln) for ln in (wd / 'commands.sh').read_text().splitlines()
            if ln and not ln.startswith('#')]


def merged(cmd):
    """The config of a tools/det/train.py or tools/train.py command with its --cfg-options."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    i = cmd.index('--cfg-options')
    cfg = Config.fromfile(ROOT / cmd[2])
    cfg.merge_from_dict(parser.parse_args(cmd[i:]).cfg_options)
    return cfg


def test_run_trains_backbones_detectors_and_classifier_stages(tmp_path):
    wd = tmp_path / 'det_tiny-imagenet-lt-r100'
    det_results.main(['run', '--work-dir', str(wd), '--dry-run', '--epochs-ce', '20',
                      '--epochs-con', '10', '--epochs-det', '2', '--epochs-det-cls', '1',
                      '--stage1-options', 'model.momentum=0.01', '--amp', 'bf16'])
    cmds = commands(wd)
    train = [c for c in cmds if c[1] in ('tools/train.py', 'tools/det/train.py')]
    tests = [c for c in cmds if c[1] == 'tools/det/test.py']
    # the 2 backbones first, then per init (scratch, ce, dscl) detector + classifier stage
    assert [c[1] for c in train] == ['tools/train.py'] * 2 + ['tools/det/train.py'] * 6
    assert len(tests) == 6 and all('--metrics-out' in c for c in tests)

    ce = merged(train[0])
    assert ce.train_cfg.max_epochs == 20 and ce.param_scheduler[1].milestones == [16, 18]
    assert ce.param_scheduler[0].end == 1  # the recipe's 5 of 200 warm-up epochs, at least one
    assert ce.model.backbone.type == 'ResNet_CIFAR'
    dscl = merged(train[1])
    assert 'dscl_r18' in train[1][2] and dscl.train_cfg.max_epochs == 10
    assert dscl.model.momentum == 0.01 and dscl.param_scheduler[1].end == 10

    scratch_det, scratch_cls = merged(train[2]), merged(train[3])
    assert scratch_det.train_cfg.max_epochs == 2 and scratch_det.param_scheduler[1].milestones == [2]
    assert scratch_det.model.backbone.get('init_cfg') is None
    assert scratch_det.model.backbone.type == 'CifarStemResNet'
    assert '--amp' in train[2] and '--no-validate' in train[2]
    # the classifier stage starts from the stage-1 detector: load_from, not --resume
    assert '--resume' not in train[3]
    assert scratch_cls.load_from == str(wd / 'faster-rcnn-scratch' / 'epoch_2.pth')
    assert scratch_cls.train_cfg.max_epochs == 1 and scratch_cls.param_scheduler[0].T_max == 1
    assert [h.type for h in scratch_cls.custom_hooks] == ['FreezeAllButHook']
    for det, backbone in ((train[4], wd / 'backbone-ce' / 'epoch_20.pth'),
                          (train[6], wd / 'backbone-dscl' / 'epoch_10.pth')):
        assert merged(det).model.backbone.init_cfg.checkpoint == str(backbone)
    assert tests[0][3] == str(wd / 'faster-rcnn-scratch' / 'epoch_2.pth')
    assert tests[1][3] == str(wd / 'faster-rcnn-scratch-crt-cls' / 'epoch_1.pth')


def test_imagenet_stem_trains_resnet_classifiers_and_64px_detectors(tmp_path):
    """--stem imagenet: the stage-1 classifiers get MMPretrain's ResNet (7x7 stem), every detector
    and classifier stage the r18-64px configs, whose backbone (ImageNetStemResNet) takes them."""
    wd = tmp_path / 'det_tiny-imagenet-lt-r100_r18-64px'
    det_results.main(['run', '--work-dir', str(wd), '--dry-run', '--stem', 'imagenet',
                      '--epochs-ce', '10', '--epochs-con', '3', '--epochs-det', '1',
                      '--epochs-det-cls', '1'])
    train = [c for c in commands(wd) if c[1] in ('tools/train.py', 'tools/det/train.py')]
    assert len(train) == 8
    for cmd in train[:2]:
        assert merged(cmd).model.backbone.type == 'ResNet'
    for cmd in train[2:]:
        assert '_r18-64px_fpn_' in cmd[2]
        cfg = merged(cmd)
        assert cfg.model.backbone.type == 'ImageNetStemResNet'
        assert cfg.model.neck.start_level == 0
        assert cfg.model.rpn_head.anchor_generator.strides == [4, 8, 16, 32]
    assert merged(train[4]).model.backbone.init_cfg.checkpoint == str(
        wd / 'backbone-ce' / 'epoch_10.pth')
    assert [h.type for h in merged(train[3]).custom_hooks] == ['FreezeAllButHook']


def test_given_backbone_resume_and_bad_input(tmp_path):
    wd = tmp_path / 'det_tiny-imagenet-lt-r100'
    ckpt = tmp_path / 'ce' / 'epoch_200.pth'
    ckpt.parent.mkdir()
    ckpt.write_bytes(b'')
    # a classifier stage that saved a checkpoint resumes from it
    (wd / 'retinanet-ce-crt-cls').mkdir(parents=True)
    (wd / 'retinanet-ce-crt-cls' / 'last_checkpoint').write_text('epoch_1.pth')
    det_results.main(['run', '--work-dir', str(wd), '--dry-run', '--detectors', 'retinanet',
                      '--inits', 'ce', '--backbone', f'ce={ckpt}', '--no-cls'])
    cmds = commands(wd)
    assert not any(c[1] == 'tools/train.py' for c in cmds)  # the backbone is not trained
    det = [c for c in cmds if c[1] == 'tools/det/train.py']
    assert len(det) == 1 and 'retinanet_r18-cifar_fpn_ce-stage1' in det[0][2]
    assert merged(det[0]).model.backbone.init_cfg.checkpoint == str(ckpt)
    assert json.loads((wd / 'backbone-ce.json').read_text())['checkpoint'] == str(ckpt)
    det_results.main(['run', '--work-dir', str(wd), '--dry-run', '--detectors', 'retinanet',
                      '--inits', 'ce', '--backbone', f'ce={ckpt}'])
    cls = [c for c in commands(wd) if c[1] == 'tools/det/train.py' and 'crt-cls' in c[2]]
    assert len(cls) == 1 and '--resume' in cls[0]

    with pytest.raises(ValueError, match="--backbone 'resnet=x.pth'"):
        det_results.main(['run', '--work-dir', str(wd), '--dry-run', '--backbone', 'resnet=x.pth'])
    with pytest.raises(FileNotFoundError, match='no checkpoint file'):
        det_results.main(['run', '--work-dir', str(wd), '--dry-run', '--backbone',
                          f'ce={tmp_path / "missing.pth"}'])


LOG = """{stamp0} - mmengine - INFO -
System environment:
    CUDA available: False
{stamp1} - mmengine - INFO - done
"""


def fake_det_run(folder: Path, epochs: int, minutes: int, ap=None):
    (folder / '20261202_000000').mkdir(parents=True)
    (folder / '20261202_000000' / '20261202_000000.log').write_text(LOG.format(
        stamp0='2026/12/02 00:00:00', stamp1=f'2026/12/02 {minutes // 60:02d}:{minutes % 60:02d}:00'))
    for e in range(1, epochs + 1):
        (folder / f'epoch_{e}.pth').write_bytes(b'')
    if ap is not None:
        (folder / 'metrics.json').write_text(json.dumps({
            'coco/bbox_mAP': ap, 'coco/bbox_mAP_50': 2 * ap, 'coco/bbox_AP_r': ap / 4,
            'coco/bbox_AP_c': ap / 2, 'coco/bbox_AP_f': ap, 'coco/bbox_mAP_s': -1.0}))


def table_rows(text):
    return {tuple(cells[:3]): cells for line in text.splitlines()
            if line.startswith('| ') and not line.startswith('| detector')
            for cells in [[c.strip() for c in line.strip('|').split('|')]]}


def test_table_section_from_run_folders(tmp_path):
    wd = tmp_path / 'det_tiny-imagenet-lt-r100'
    fake_det_run(wd / 'backbone-ce', 20, 90)
    fake_det_run(wd / 'faster-rcnn-scratch', 2, 30, ap=0.1)
    fake_det_run(wd / 'faster-rcnn-scratch-crt-cls', 1, 12, ap=0.12)
    fake_det_run(wd / 'faster-rcnn-ce', 2, 31, ap=0.2)
    fake_det_run(wd / 'faster-rcnn-ce-crt-cls', 0, 5)  # started, not finished
    (wd / 'backbone-dscl.json').write_text(json.dumps(dict(checkpoint='work_dirs/x/epoch_80.pth')))
    fake_det_run(wd / 'faster-rcnn-dscl', 2, 29, ap=0.15)
    text = lt_results.write_table([wd], tmp_path / 'results.md')
    rows = table_rows(text)
    assert rows['Faster R-CNN R18-FPN', 'random (no pre-training)', 'joint'][3:] == [
        '10.00', '20.00', '2.50', '5.00', '10.00', '- / 2 / -', 'CPU', '30']
    # the classifier stage's row counts both detector stages' wall time
    cls = rows['Faster R-CNN R18-FPN', 'random (no pre-training)', 'decoupled (frozen, RFS)']
    assert cls[3] == '12.00' and cls[8:] == ['- / 2 / 1', 'CPU', '42']
    assert rows['Faster R-CNN R18-FPN', 'mmlt CE (stage 1)', 'joint'][8] == '20 / 2 / -'
    assert rows['Faster R-CNN R18-FPN', 'mmlt DSCL (stage 1)', 'joint'][8] == '80 / 2 / -'
    assert ('Faster R-CNN R18-FPN', 'mmlt CE (stage 1)', 'decoupled (frozen, RFS)') not in rows
    assert '- `faster-rcnn-ce-crt-cls`: epoch 0 of ?, not tested yet' in text
    assert 'Highest AP_r here: Faster R-CNN R18-FPN, mmlt CE (stage 1), joint classifier (5.00)' \
        in text
    # the run folders are gone (a new machine): the rows come from results_records.json
    shutil.rmtree(wd)
    again = lt_results.write_table([wd], tmp_path / 'results.md')
    assert table_rows(again) == rows
    assert '4 of these rows come from the record file (`results_records.json`)' in again
    assert 'Highest AP_r here: Faster R-CNN R18-FPN, mmlt CE (stage 1)' in again

    # an ImageNet-stem run (the config mmengine copies into the folder tells)
    wd = tmp_path / 'det_tiny-imagenet-lt-r100_r18-64px'
    fake_det_run(wd / 'faster-rcnn-scratch', 1, 20, ap=0.0)
    (wd / 'faster-rcnn-scratch' /
     'faster-rcnn_r18-64px_fpn_scratch_cpu-4e_tiny-imagenet-lt-r100.py').write_text('')
    rows = table_rows(lt_results.write_table([wd], tmp_path / 'results64.md'))
    assert det_results.is_short('- / 1 / -') and not det_results.is_short('200 / 4 / 2')
    text = (tmp_path / 'results64.md').read_text()
    assert 'No row detects a rare class' in text and '**Short schedule**' in text
    assert [k for k in rows if k[0].startswith('Faster')] == [
        ('Faster R-CNN R18-FPN (ImageNet stem, 64 px)', 'random (no pre-training)', 'joint')]
