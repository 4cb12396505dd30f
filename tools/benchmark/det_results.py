# Copyright (c) mmlt contributors. All rights reserved.
"""Measure long-tailed detection on Tiny-ImageNet-LT-Det: backbone init x decoupled classifier.

``run`` trains and tests, one folder per run under WORK_DIR (default
``work_dirs/det_tiny-imagenet-lt-r100``); a run whose ``metrics.json`` exists is skipped and an
interrupted training continues from its last checkpoint, so a call can simply be repeated:

* the stage-1 backbones (``backbone-<init>/``): mmlt's Tiny-ImageNet-LT ResNet-18 classifiers,
  cross-entropy (``ce``, configs/decoupled) and DSCL / DSCL + PBSD (``dscl``, ``dscl-pbsd``,
  configs/dscl), or any checkpoint given with ``--backbone INIT=CKPT``;
* per detector and init, the detector (``<detector>-<init>/``: random init for ``scratch``, else
  the backbone's ``backbone.`` weights through the config's ``Pretrained`` init_cfg), then the
  decoupled box-classifier stage on it (``<detector>-<init>-crt-cls/``: everything frozen but the
  final classifier, repeat-factor sampling), each tested on the val split with
  ``LongTailCocoMetric`` (box AP, AP_r / AP_c / AP_f).

Every command is appended to ``WORK_DIR/commands.sh``. ``lt_results.py table`` puts a folder named
``det_*`` into docs/results.md as a detection section (:func:`det_section`), with the epochs each
stage actually ran, the device and the wall time read from the run folders.

Examples::

    # the configs' schedules (backbones 200 epochs, detector 4, classifier stage 2)
    python tools/benchmark/det_results.py run
    # shorter, with a CE backbone trained elsewhere
    python tools/benchmark/det_results.py run --inits scratch ce --epochs-det 1 --epochs-det-cls 1 \\
        --backbone ce=work_dirs/results_tiny-imagenet-lt-r100/ce/epoch_200.pth
"""
import argparse
import json
import math
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lt_results  # noqa: E402
from lt_results import (ROOT, commands_block, epochs_run, fmt, log_device,  # noqa: E402
                        merge_commands, merge_rows, planned_epochs, repo_relative,
                        schedule_options, wall_minutes)

DN = 'tiny-imagenet-lt-r100'
DETECTORS = {
    'faster-rcnn': 'Faster R-CNN R18-FPN',
    'retinanet': 'RetinaNet R18-FPN',
}
# stage-1 classifiers whose backbone a detector can start from (ResNet_CIFAR-18, 64 px)
BACKBONES = {
    'ce': dict(config=f'configs/decoupled/ce_resnet18_1xb128-200e_{DN}.py',
               label='mmlt CE (stage 1)'),
    'dscl': dict(config=f'configs/dscl/dscl_r18_1xb256-coslr-200e_{DN}.py',
                 label='mmlt DSCL (stage 1)'),
    'dscl-pbsd': dict(config=f'configs/dscl/dscl-pbsd_r18_1xb256-coslr-200e_{DN}.py',
                      label='mmlt DSCL + PBSD (stage 1)'),
}
INITS = ('scratch', ) + tuple(BACKBONES)
INIT_LABELS = {'scratch': 'random (no pre-training)',
               **{k: v['label'] for k, v in BACKBONES.items()}}
# metric names of LongTailCocoMetric (prefix coco/, values in [0, 1]) -> table column
COLUMNS = (('AP', 'bbox_mAP'), ('AP50', 'bbox_mAP_50'), ('AP_r', 'bbox_AP_r'),
           ('AP_c', 'bbox_AP_c'), ('AP_f', 'bbox_AP_f'))


# backbone stems: the detector configs' model name, and what the stage-1 configs need to match
STEMS = {
    'cifar': dict(model='r18-cifar', stage1_options=[], label=''),  # ResNet_CIFAR: 3x3 stride 1
    'imagenet': dict(model='r18-64px',  # ResNet: 7x7 stride-2 stem + max-pool, 16x cheaper
                     stage1_options=['model.backbone.type=ResNet'],
                     label=' (ImageNet stem, 64 px)'),
}


def det_config(detector: str, init: str, stem: str = 'cifar') -> str:
    kind = 'scratch' if init == 'scratch' else 'ce-stage1'  # any stage-1 checkpoint fits ce-stage1
    return f'configs/det/{detector}_{STEMS[stem]["model"]}_fpn_{kind}_cpu-4e_{DN}.py'


def cls_config(detector: str, stem: str = 'cifar') -> str:
    return f'configs/det/{detector}_{STEMS[stem]["model"]}_fpn_crt-cls_rfs-2e_{DN}.py'


def det_schedule_options(epochs: int):
    """cfg-options that shrink the detector schedule (``_base_/schedules/cpu_sgd_4e.py``: linear
    warm-up, x0.1 after three quarters of the epochs) to ``epochs``."""
    return [f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
            f'param_scheduler.1.end={epochs}',
            f'param_scheduler.1.milestones=[{max(1, round(epochs * 3 / 4))}]']


def cls_schedule_options(epochs: int, det_ckpt: Path):
    """The classifier stage (cosine over ``epochs``) on the stage-1 detector ``det_ckpt``."""
    return [f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
            f'param_scheduler.0.T_max={epochs}', f'param_scheduler.0.end={epochs}',
            f'load_from={det_ckpt}']


def ce_schedule_options(epochs: int):
    """The CE stage 1 (LDAM-DRW's steps at 4/5 and 9/10 of the epochs, as tools/run_decoupled.sh;
    the warm-up 5 of 200 epochs, at least one)."""
    return [f'train_cfg.max_epochs={epochs}',
            f'param_scheduler.0.end={max(1, round(epochs * 5 / 200))}',
            f'param_scheduler.1.milestones=[{epochs * 4 // 5},{epochs * 9 // 10}]',
            f'default_hooks.checkpoint.interval={min(epochs, lt_results.CHECKPOINT_EVERY)}']


class DetRunner(lt_results.Runner):
    """Runs the detection benchmark; shares logging and ``--threads`` with ``lt_results``."""

    def __init__(self, args):
        self.args = args
        self.work_dir = args.work_dir or ROOT / 'work_dirs' / f'det_{DN}'
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.python = args.python
        self.given = dict(self.parse_backbones(args.backbone))
        self.stage1 = {}  # init -> its stage-1 checkpoint, once given, trained or found

    @staticmethod
    def parse_backbones(items):
        for item in items:
            name, sep, ckpt = item.partition('=')
            if not sep or name not in BACKBONES or not ckpt:
                raise ValueError(f'--backbone {item!r}: expected INIT=CHECKPOINT with INIT one '
                                 f'of {list(BACKBONES)}')
            if not Path(ckpt).is_file():
                raise FileNotFoundError(f'--backbone {item!r}: no checkpoint file {ckpt}')
            yield name, Path(ckpt)

    def backbone(self, init: str) -> Path:
        """The stage-1 checkpoint of ``init``: given with ``--backbone``, else trained here."""
        if init in self.stage1:
            return self.stage1[init]
        record = self.work_dir / f'backbone-{init}.json'
        if init in self.given:
            record.write_text(json.dumps(dict(checkpoint=repo_relative(
                str(self.given[init].resolve()))), indent=1))
            self.stage1[init] = self.given[init]
            return self.given[init]
        spec, folder = BACKBONES[init], self.work_dir / f'backbone-{init}'
        stem_options = STEMS[self.args.stem]['stage1_options']
        if init == 'ce':
            epochs = self.args.epochs_ce
            options = ce_schedule_options(epochs) + stem_options
        else:
            epochs = self.args.epochs_con
            options = schedule_options(epochs, 10 / 200) + stem_options + self.args.stage1_options
        ckpt = folder / f'epoch_{epochs}.pth'
        if not ckpt.exists():
            self.train(spec['config'], folder, options)
        record.unlink(missing_ok=True)
        self.stage1[init] = ckpt
        return ckpt

    def det_train(self, config, work_dir: Path, options):
        """tools/det/train.py without validation (the test follows); resumes when ``work_dir``
        holds a checkpoint. Not otherwise: mmdet's ``--resume`` drops ``load_from``, which the
        classifier stage needs on its first start."""
        cmd = [self.python, 'tools/det/train.py', config, '--work-dir', work_dir,
               '--no-validate']
        if (work_dir / 'last_checkpoint').exists():
            cmd.append('--resume')
        if self.args.amp:
            cmd += ['--amp', self.args.amp]
        self.call(cmd + ['--cfg-options'] + options + self.args.det_options)

    def det_test(self, config, ckpt: Path, work_dir: Path):
        self.call([self.python, 'tools/det/test.py', config, ckpt, '--work-dir', work_dir,
                   '--metrics-out', work_dir / 'metrics.json'] +
                  (['--cfg-options'] + self.args.det_options if self.args.det_options else []))

    def detector(self, detector: str, init: str):
        e_det, e_cls, stem = self.args.epochs_det, self.args.epochs_det_cls, self.args.stem
        name = f'{detector}-{init}'
        det_dir, cls_dir = self.work_dir / name, self.work_dir / f'{name}-crt-cls'
        det_ckpt = det_dir / f'epoch_{e_det}.pth'
        if self.done(name) and (self.args.no_cls or self.done(cls_dir.name)):
            return
        if not det_ckpt.exists():
            options = det_schedule_options(e_det)
            if init != 'scratch':
                options.append(f'model.backbone.init_cfg.checkpoint={self.backbone(init)}')
            self.det_train(det_config(detector, init, stem), det_dir, options)
        if not self.done(name):
            self.det_test(det_config(detector, init, stem), det_ckpt, det_dir)
        if self.args.no_cls:
            return
        if not (cls_dir / f'epoch_{e_cls}.pth').exists():
            self.det_train(cls_config(detector, stem), cls_dir,
                           cls_schedule_options(e_cls, det_ckpt))
        if not self.done(cls_dir.name):
            self.det_test(cls_config(detector, stem), cls_dir / f'epoch_{e_cls}.pth', cls_dir)

    def run(self):
        self.start('tools/benchmark/det_results.py')
        for init in self.args.inits:  # every stage 1 first: the detectors need them all
            if init != 'scratch':
                self.backbone(init)
        for detector in self.args.detectors:
            for init in self.args.inits:
                self.detector(detector, init)


# --------------------------------------------------------------------------------------------
# table (called by lt_results.write_table for work dirs named det_*)
# --------------------------------------------------------------------------------------------
def read_det_metrics(folder: Path):
    """``{column: value in %}`` from a test's ``metrics.json`` (None if not tested)."""
    path = folder / 'metrics.json'
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    found = {}
    for column, name in COLUMNS:
        values = [v for k, v in raw.items() if k.split('/')[-1] == name]
        found[column] = 100 * values[0] if values and values[0] is not None else float('nan')
    return found


# the configs' epochs: stage-1 backbones, detector (cpu_sgd_4e), decoupled classifier stage
RECIPE_EPOCHS = (200, 4, 2)


def is_short(epochs: str) -> bool:
    """Whether a row's ``'backbone / detector / classifier'`` epochs fall short of the recipe
    (``-``: not run, e.g. random init or no classifier stage)."""
    return any(e.strip().isdigit() and int(e) < recipe
               for e, recipe in zip(epochs.split('/'), RECIPE_EPOCHS))


def detector_label(folder: Path, detector: str) -> str:
    """The table's name of ``detector`` as trained in ``folder``: the config mmengine copied there
    tells the backbone's stem."""
    for spec in STEMS.values():
        if spec['label'] and any(folder.glob(f'*_{spec["model"]}_fpn_*.py')):
            return DETECTORS[detector] + spec['label']
    return DETECTORS[detector]


def backbone_epochs(work_dir: Path, init: str) -> str:
    """Epochs of the stage-1 backbone ``init``: its folder here, or the checkpoint name recorded in
    ``backbone-<init>.json`` when it was given (``--backbone``); ``-`` for random init."""
    if init == 'scratch':
        return '-'
    record = work_dir / f'backbone-{init}.json'
    if record.exists():
        m = re.fullmatch(r'epoch_(\d+)\.pth', Path(json.loads(record.read_text())['checkpoint']).name)
        return m.group(1) if m else '?'
    return str(epochs_run(work_dir / f'backbone-{init}') or '?')


def det_section(work_dir: Path, record: dict, records_name: str) -> str:
    """The detection table of a ``det_*`` work dir; ``record`` (its entry of the record file of
    ``lt_results.write_table``) supplies the rows whose run folders are gone."""
    lines = [f'## Long-tailed detection: Tiny-ImageNet-LT-Det (IR 100) (`{work_dir.name}`)', '',
             'Box AP on the val split (10,000 images, 50 per class) by `LongTailCocoMetric`; '
             'AP_r / AP_c / AP_f: mean per-class AP of the classes with 1-10 / 11-100 / > 100 '
             'training images (35 / 95 / 70 classes). *epochs*: the backbone\'s stage 1 (`-`: '
             'random init), the detector, the classifier stage (`-`: none), read from the '
             'checkpoints. *wall min* counts the detector stages and their tests; the '
             'backbone\'s stage 1 is not included.', '']
    on_disk, order, unfinished = {}, [], []
    for detector in DETECTORS:
        for init in INITS:
            name = f'{detector}-{init}'
            order += [name, f'{name}-crt-cls']
            if not (work_dir / name).is_dir():
                continue
            b_epochs = backbone_epochs(work_dir, init)
            for folder, cls in ((name, False), (f'{name}-crt-cls', True)):
                if not (work_dir / folder).is_dir():
                    continue
                metrics = read_det_metrics(work_dir / folder)
                if metrics is None:
                    unfinished.append(
                        f'- `{folder}`: epoch {epochs_run(work_dir / folder) or 0} of '
                        f'{planned_epochs(work_dir / folder) or "?"}, not tested yet; no row '
                        'until it is (`det_results.py run` continues it)')
                    continue
                folders = [name] + ([folder] if cls else [])
                on_disk[folder] = dict(
                    detector=detector_label(work_dir / name, detector), init=INIT_LABELS[init],
                    metrics=metrics,
                    cls='decoupled (frozen, RFS)' if cls else 'joint',
                    epochs=f'{b_epochs} / {epochs_run(work_dir / name)} / '
                    f'{epochs_run(work_dir / folder) if cls else "-"}',
                    device=log_device(work_dir / name),
                    minutes=sum(wall_minutes(work_dir / f) for f in folders))
    rows, recorded = merge_rows(record, on_disk, order, records_name)
    rows = list(rows.values())
    commands = merge_commands(record, work_dir)
    if not rows and not unfinished:
        return '\n'.join(lines[:2] + [f'No detector was run here (`{work_dir.name}` holds no '
                                      'test results).', ''])
    if rows:
        lines += ['| detector | backbone init | box classifier | ' +
                  ' | '.join(c for c, _ in COLUMNS) +
                  ' | epochs (backbone / detector / classifier) | device | wall min |',
                  '|---' * (len(COLUMNS) + 6) + '|']
        for r in rows:
            lines.append(f'| {r["detector"]} | {r["init"]} | {r["cls"]} | ' + ' | '.join(
                fmt(r['metrics'][c]) for c, _ in COLUMNS) +
                f' | {r["epochs"]} | {r["device"]} | {r["minutes"]:.0f} |')
        # AP_r is NaN (None once recorded) where no rare class has a ground-truth box
        best = max(rows, key=lambda r: -1 if r['metrics']['AP_r'] is None or
                   math.isnan(r['metrics']['AP_r']) else r['metrics']['AP_r'])
        lines += recorded
        if (best['metrics']['AP_r'] or 0) > 0:
            lines += ['', f'Highest AP_r here: {best["detector"]}, {best["init"]}, '
                      f'{best["cls"]} classifier ({fmt(best["metrics"]["AP_r"])}).']
        else:
            lines += ['', 'No row detects a rare class (AP_r 0 or undefined everywhere).']
        if any(is_short(r['epochs']) for r in rows):
            lines += ['', f'**Short schedule**: rows with fewer epochs than the recipe '
                      f'(stage-1 backbones {RECIPE_EPOCHS[0]}, detector {RECIPE_EPOCHS[1]}, '
                      f'classifier stage {RECIPE_EPOCHS[2]}) compare the inits with each other '
                      'at that budget; they are not the recipe\'s result.']
    if unfinished:
        lines += ['', 'Unfinished runs in this folder:', ''] + unfinished
    lines.append('')
    lines += commands_block(commands, 'Commands that produced these rows')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    run = sub.add_parser('run', help='train and test the detectors (and their backbones)')
    run.add_argument('--detectors', nargs='+', choices=list(DETECTORS), default=['faster-rcnn'])
    run.add_argument('--inits', nargs='+', choices=INITS, default=['scratch', 'ce', 'dscl'],
                     help='backbone inits (default: random, mmlt CE, mmlt DSCL)')
    run.add_argument('--stem', choices=list(STEMS), default='cifar',
                     help="the ResNet-18's stem, in the stage-1 classifiers and the detectors: "
                     "'cifar' (ResNet_CIFAR, the configs' default) or 'imagenet' (7x7 stride 2 "
                     "and max-pool, about 16x fewer operations at 64 px; r18-64px configs)")
    run.add_argument('--backbone', nargs='+', default=[], metavar='INIT=CKPT',
                     help='use this stage-1 checkpoint instead of training the backbone')
    run.add_argument('--epochs-ce', type=int, default=200, help='CE backbone (recipe: 200)')
    run.add_argument('--epochs-con', type=int, default=200,
                     help='DSCL (+ PBSD) backbone (recipe: 200)')
    run.add_argument('--stage1-options', nargs='+', default=[], metavar='KEY=VALUE',
                     help='cfg-options of the contrastive backbones (e.g. model.momentum=0.01)')
    run.add_argument('--epochs-det', type=int, default=4, help='detector (config: 4)')
    run.add_argument('--epochs-det-cls', type=int, default=2,
                     help='decoupled classifier stage (config: 2)')
    run.add_argument('--no-cls', action='store_true', help='skip the classifier stage')
    run.add_argument('--det-options', nargs='+', default=[], metavar='KEY=VALUE',
                     help='cfg-options of every detector training and test')
    run.add_argument('--amp', choices=['bf16', 'fp16'], help='mixed precision of every training')
    run.add_argument('--threads', type=int, help='CPU threads of each run (OMP_NUM_THREADS)')
    run.add_argument('--work-dir', type=Path)
    run.add_argument('--python', default='python3')
    run.add_argument('--dry-run', action='store_true', help='print the commands, run nothing')
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    # what lt_results.Runner.train reads
    args.gpus, args.compile = 1, False
    DetRunner(args).run()


if __name__ == '__main__':
    main()
