# Copyright (c) mmlt contributors. All rights reserved.
"""Run every long-tailed method of mmlt on one benchmark and collect the measured results.

``run`` trains and tests, one folder per run under WORK_DIR (a finished run, one whose
``metrics.json`` exists, is skipped, so an interrupted call can simply be repeated):

* the decoupled pipeline (``tools/run_decoupled.sh``): CE stage 1, then cRT, LWS, tau-norm, NCM;
* the DSCL paper's Table 1 ablation: SCL, DSCL, SCL + PBSD, DSCL + PBSD (stage 1 in
  ``<method>-stage1/``), each followed by cRT on its frozen backbone (``<method>/``);
* CFRL: image-level stage (``cfrl-image/``), patch-level stage (``cfrl-patch/``), cRT (``cfrl/``).

Every command it runs is appended to ``WORK_DIR/commands.sh``.

``table`` writes the results document (``docs/results.md``) from one or more WORK_DIRs: top-1 and
Many / Medium / Few on the test split, the epochs each stage actually ran (from its checkpoints),
the device (from the training log), the wall time, the published numbers beside ours, the check
of the paper's ordering SCL < DSCL < DSCL + PBSD, and a per-class accuracy plot of the best
model. Nothing in it is typed by hand. What each table shows is also written to a record file
beside the page (``docs/results_records.json``); a run folder that is gone (folders stay on the
machine that trained them) keeps its rows from there, so tabling new runs elsewhere adds rows
without losing the earlier ones. A WORK_DIR named ``fidelity_*`` (``ab``) becomes the A/B
table, one named ``det_*`` the detection table of ``tools/benchmark/det_results.py``.

Examples::

    # the full recipes (GPU)
    python tools/benchmark/lt_results.py run --dataset cifar10
    # shortened schedules, as run on the 2-core CPU machine for docs/results.md
    python tools/benchmark/lt_results.py run --dataset cifar10 --epochs-ce 12 --epochs-cls 2 \\
        --epochs-con 6 --epochs-cfrl 4 2
    python tools/benchmark/lt_results.py table work_dirs/results_cifar10-lt-r100 \\
        work_dirs/results_tiny-imagenet-lt-r100 --notes docs/results_notes.md --out docs/results.md
"""
import argparse
import json
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'analysis'))
sys.path.insert(0, str(ROOT / 'tools' / 'benchmark'))  # det_results (det_* work dirs)
from collect_results import read_method  # noqa: E402  (metrics.json / tau_norm_sweep.json)

DATASETS = {
    'cifar10': dict(
        name='CIFAR-10-LT (IR 100)', tag='r32', backbone='ResNet-32', dn='cifar10-lt-r100',
        dataset='cifar10', ncm='configs/decoupled/ncm_resnet32_cifar10-lt-r100.py',
        num_val=1000),
    'tiny': dict(
        name='Tiny-ImageNet-LT (IR 100)', tag='r18', backbone='ResNet-18',
        dn='tiny-imagenet-lt-r100',
        dataset='tiny', ncm='configs/decoupled/ncm_resnet18_tiny-imagenet-lt-r100.py',
        num_val=2000),
}
CONTRASTIVE = ('scl', 'dscl', 'scl-pbsd', 'dscl-pbsd')
METHODS = ('decoupled', ) + CONTRASTIVE + ('cfrl', )

# (row label, stage-1 folders, stage-2 folder or None, folder holding the test metrics)
ROWS = [
    ('CE', ['ce'], None, 'ce'),
    ('CE + cRT', ['ce'], 'crt', 'crt'),
    ('CE + tau-norm', ['ce'], None, 'tau-norm'),
    ('CE + LWS', ['ce'], 'lws', 'lws'),
    ('CE + NCM', ['ce'], None, 'ncm'),
    ('SCL + cRT', ['scl-stage1'], 'scl', 'scl'),
    ('DSCL + cRT', ['dscl-stage1'], 'dscl', 'dscl'),
    ('SCL + PBSD + cRT', ['scl-pbsd-stage1'], 'scl-pbsd', 'scl-pbsd'),
    ('DSCL + PBSD + cRT', ['dscl-pbsd-stage1'], 'dscl-pbsd', 'dscl-pbsd'),
    ('CFRL + cRT', ['cfrl-image', 'cfrl-patch'], 'cfrl', 'cfrl'),
    # NCM on the same frozen backbones: no training in stage 2, so no stage-2 learning rate
    ('SCL + NCM', ['scl-stage1'], None, 'scl-ncm'),
    ('DSCL + NCM', ['dscl-stage1'], None, 'dscl-ncm'),
    ('SCL + PBSD + NCM', ['scl-pbsd-stage1'], None, 'scl-pbsd-ncm'),
    ('DSCL + PBSD + NCM', ['dscl-pbsd-stage1'], None, 'dscl-pbsd-ncm'),
    ('CFRL + NCM', ['cfrl-image', 'cfrl-patch'], None, 'cfrl-ncm'),
]
# the paper's ordering (Xuan & Zhang, AAAI 2024, Table 1), checked on our numbers
ORDERING = ('scl', 'dscl', 'dscl-pbsd')

# The fidelity A/B of the DSCL + PBSD recipe: each arm changes one thing of 'mmlt' (the main
# config as it was when the A/B ran, pinned in configs/dscl/fidelity/*_ab-baseline.py) to the DSCL
# authors' behaviour (config in configs/dscl/fidelity/, see its comment); stage-2 arms reuse the
# stage 1 of 'mmlt'. arm -> stage1 config / cfg-options / cRT config / NCM config.
_FID = 'configs/dscl/fidelity'
FIDELITY = {
    'cifar10': {
        'mmlt': dict(stage1=f'{_FID}/dscl-pbsd_r32_cifar10-lt-r100_ab-baseline.py',
                     crt=f'{_FID}/dscl-pbsd_r32_crt_cifar10-lt-r100_ab-baseline.py',
                     what="mmlt's main config when the A/B ran"),
        'mmlt-seed1': dict(options=['randomness.seed=1'], what='the same, seed 1 (noise)'),
        'mmlt-seed2': dict(options=['randomness.seed=2'], what='the same, seed 2 (noise)'),
        'authors-crop-order': dict(
            stage1=f'{_FID}/dscl-pbsd_r32_cifar10-lt-r100_authors-crop-order.py',
            what='crops cut before the query colour steps'),
        'authors-roi-align': dict(
            stage1=f'{_FID}/dscl-pbsd_r32_cifar10-lt-r100_authors-roi-align.py',
            what='RoIAlign aligned=False'),
        'authors-contrast-set': dict(
            stage1=f'{_FID}/dscl-pbsd_r32_cifar10-lt-r100_authors-contrast-set.py',
            what='contrast set [q; k; queue]'),
        'authors-views': dict(stage1=f'{_FID}/dscl-pbsd_r32_cifar10-lt-r100_authors-views.py',
                              what='global views: scale (0.08, 1), asymmetric key'),
        'zero-init': dict(stage1=f'{_FID}/dscl-pbsd_r32_cifar10-lt-r100_zero-init.py',
                          what='zero_init_residual=True'),
        'authors-aug': dict(stage1_name='mmlt', ncm=False,
                            crt=f'{_FID}/dscl-pbsd_r32_crt_cifar10-lt-r100_authors-aug.py',
                            what="cRT with the authors' linear-stage augmentation"),
        'bn-recal': dict(stage1_name='mmlt',
                         crt=f'{_FID}/dscl-pbsd_r32_crt_cifar10-lt-r100_bn-recal.py',
                         ncm=f'{_FID}/ncm_resnet32_cifar10-lt-r100_bn-recal.py',
                         what='BatchNorm statistics re-estimated on stage-2 images'),
        # not an authors' item: the per-image reference pipeline vs the batched fast path
        'per-image': dict(
            stage1=f'{_FID}/dscl-pbsd_r32_cifar10-lt-r100_ab-baseline_per-image.py',
            what='per-image reference pipeline instead of the batched views (fast-path check)'),
    },
}

# Published top-1 for orientation; (value, source). Our CIFAR-10-LT / Tiny-ImageNet-LT settings
# have no published counterpart for most rows, so the ImageNet-LT numbers are given for the DSCL
# ablation (the ordering is what transfers, not the values).
PUBLISHED = {
    'cifar10': {
        'CE': (70.4, 'Cao et al. 2019 (LDAM-DRW), Table 2, ERM, ResNet-32, 200 epochs'),
    },
    'imagenet-lt': {
        'SCL + cRT': (51.2, 'Xuan & Zhang 2024, Table 1, ImageNet-LT ResNet-50'),
        'DSCL + cRT': (52.6, 'Xuan & Zhang 2024, Table 1, ImageNet-LT ResNet-50'),
        'SCL + PBSD + cRT': (56.3, 'Xuan & Zhang 2024, Table 1, ImageNet-LT ResNet-50'),
        'DSCL + PBSD + cRT': (57.7, 'Xuan & Zhang 2024, Table 1, ImageNet-LT ResNet-50'),
    },
}


# --------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------
CHECKPOINT_EVERY = 10  # epochs between the checkpoints an interrupted run resumes from


def schedule_options(epochs: int, warmup_ratio: float, checkpoint_every: int = CHECKPOINT_EVERY):
    """cfg-options that shrink a warm-up + cosine schedule (LinearLR then CosineAnnealingLR) to
    ``epochs``, keeping the warm-up's share (at least one epoch); a checkpoint every
    ``checkpoint_every`` epochs (and at the end) to resume from."""
    warmup = max(1, round(epochs * warmup_ratio))
    if warmup >= epochs:
        raise ValueError(f'{epochs} epochs leave no room after {warmup} warm-up epoch(s)')
    return [
        f'train_cfg.max_epochs={epochs}', f'param_scheduler.0.end={warmup}',
        f'param_scheduler.1.begin={warmup}', f'param_scheduler.1.end={epochs}',
        f'param_scheduler.1.T_max={epochs - warmup}',
        f'default_hooks.checkpoint.interval={min(epochs, checkpoint_every)}'
    ]


def classifier_options(epochs: int, stage1_ckpt: Path):
    return [
        f'train_cfg.max_epochs={epochs}', f'param_scheduler.0.T_max={epochs}',
        f'param_scheduler.0.end={epochs}', f'model.backbone.init_cfg.checkpoint={stage1_ckpt}'
    ]


class Runner:
    """Runs the commands of one benchmark, logging each to ``WORK_DIR/commands.sh``."""

    def __init__(self, args):
        self.args = args
        self.spec = DATASETS[args.dataset]
        prefix = 'fidelity' if args.command == 'ab' else 'results'
        self.work_dir = args.work_dir or ROOT / 'work_dirs' / f'{prefix}_{self.spec["dn"]}'
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.python = args.python

    def call(self, cmd, env=None):
        env_prefix = ' '.join(f'{k}={v}' for k, v in (env or {}).items())
        line = (env_prefix + ' ' if env_prefix else '') + ' '.join(shlex.quote(str(c)) for c in cmd)
        line = repo_relative(line)
        with open(self.work_dir / 'commands.sh', 'a') as f:
            f.write(line + '\n')
        print(f'+ {line}', flush=True)
        if self.args.dry_run:
            return
        threads = {}
        if self.args.threads:  # e.g. two single-thread runs side by side on a 2-core CPU
            threads = dict(OMP_NUM_THREADS=self.args.threads, MKL_NUM_THREADS=self.args.threads)
        subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True, env={
            **os.environ, **{k: str(v) for k, v in {**threads, **(env or {})}.items()}})

    def train(self, config, work_dir, options):
        """Train, resuming from the latest checkpoint of ``work_dir`` when an earlier call was
        interrupted (``--resume`` without a checkpoint starts from scratch)."""
        if self.args.gpus > 1:
            cmd = ['bash', 'tools/dist_train.sh', config, self.args.gpus]
        else:
            cmd = [self.python, 'tools/train.py', config]
        cmd += ['--work-dir', work_dir, '--resume']
        if self.args.amp:
            cmd += ['--amp', self.args.amp]
        if self.args.compile:
            cmd += ['--compile']
        self.call(cmd + ['--cfg-options'] + options)

    def test(self, config, ckpt, work_dir, options=()):
        cmd = [self.python, 'tools/test.py', config, ckpt, '--work-dir', work_dir,
               '--out', work_dir / 'metrics.json', '--out-item', 'metrics']
        self.call(cmd + (['--cfg-options', *options] if options else []))

    def done(self, folder):
        return (self.work_dir / folder / 'metrics.json').exists()

    def crt_done(self, folder):
        """A cRT result is final when it is tested and, with several ``--crt-lrs``, was chosen
        among all of them: widening the sweep later trains only the new learning rates and
        chooses again (the finished runs are kept)."""
        if not self.done(folder):
            return False
        if len(self.args.crt_lrs or ()) <= 1:
            return True
        choice = self.work_dir / folder / 'lr_choice.json'
        if not choice.exists():
            return False
        tried = json.loads(choice.read_text())['val_top1']
        return all(f'{lr:g}' in tried for lr in self.args.crt_lrs)

    def decoupled(self):
        if self.done('ncm'):
            return
        env = dict(DATASET=self.spec['dataset'], EPOCHS1=self.args.epochs_ce,
                   EPOCHS2=self.args.epochs_cls, GPUS=self.args.gpus, WORK_DIR=self.work_dir,
                   PYTHON=self.python, **({'AMP': self.args.amp} if self.args.amp else {}),
                   **({'COMPILE': 1} if self.args.compile else {}))
        self.call(['bash', 'tools/run_decoupled.sh'], env=env)

    def contrastive(self, method):
        tag, dn = self.spec['tag'], self.spec['dn']
        self.two_stage(method, f'configs/dscl/{method}_{tag}_1xb256-coslr-200e_{dn}.py')

    def two_stage(self, name, stage1_config, stage1_options=(), crt_config=None,
                  ncm_config=None, stage1_name=None):
        """A contrastive stage 1 (``<stage1_name>-stage1/``, shortened to ``--epochs-con``
        with its warm-up share), then cRT (``<name>/``) and NCM (``<name>-ncm/``) on it.
        ``stage1_name`` reuses another run's stage 1 (stage-2 variants)."""
        tag, dn, e1 = self.spec['tag'], self.spec['dn'], self.args.epochs_con
        s1_dir = self.work_dir / f'{stage1_name or name}-stage1'
        s1_ckpt = s1_dir / f'epoch_{e1}.pth'
        if not s1_ckpt.exists() and not (self.crt_done(name) and self.done(f'{name}-ncm')):
            self.train(stage1_config, s1_dir,
                       schedule_options(e1, 10 / 200, self.args.checkpoint_every) +
                       self.args.stage1_options + list(stage1_options))
        if crt_config is not False and not self.crt_done(name):
            self.classifier(crt_config or f'configs/dscl/dscl-pbsd_{tag}_crt-1xb512-10e_{dn}.py',
                            s1_ckpt, self.work_dir / name)
        if ncm_config is not False:
            self.ncm(s1_ckpt, name, ncm_config)

    def ab(self):
        """The fidelity A/B: each arm changes one thing of the main DSCL + PBSD recipe to the
        authors' behaviour (``FIDELITY``), at the same seed and budget; ``mmlt-seed1`` repeats
        the main recipe with another seed to show the noise."""
        arms = FIDELITY.get(self.args.dataset)
        if arms is None:
            raise ValueError(f'no fidelity A/B configs for --dataset {self.args.dataset}')
        for arm in self.args.arms or list(arms):
            if arm not in arms:
                raise ValueError(f'unknown A/B arm {arm!r}; choose from {list(arms)}')
            spec = arms[arm]
            self.two_stage(arm, spec.get('stage1', arms['mmlt']['stage1']),
                           spec.get('options', ()), spec.get('crt', arms['mmlt']['crt']),
                           spec.get('ncm'), spec.get('stage1_name'))

    def cfrl(self):
        tag, dn = self.spec['tag'], self.spec['dn']
        e_image, e_patch = self.args.epochs_cfrl
        image_dir, patch_dir = self.work_dir / 'cfrl-image', self.work_dir / 'cfrl-patch'
        image_ckpt = image_dir / f'epoch_{e_image}.pth'
        patch_ckpt = patch_dir / f'epoch_{e_patch}.pth'
        if self.crt_done('cfrl') and self.done('cfrl-ncm'):
            return
        if not image_ckpt.exists():
            self.train(f'configs/cfrl/cfrl-image_{tag}_1xb256-coslr-200e_{dn}.py', image_dir,
                       schedule_options(e_image, 10 / 200, self.args.checkpoint_every) +
                       self.args.stage1_options)
        if not patch_ckpt.exists():
            self.train(f'configs/cfrl/cfrl-patch_{tag}_1xb256-coslr-100e_{dn}.py', patch_dir,
                       schedule_options(e_patch, 5 / 100, self.args.checkpoint_every) +
                       self.args.stage1_options +
                       [f'model.init_cfg.checkpoint={image_ckpt}'])
        if not self.crt_done('cfrl'):
            self.classifier(f'configs/cfrl/cfrl_{tag}_crt-1xb512-10e_{dn}.py', patch_ckpt,
                            self.work_dir / 'cfrl')
        self.ncm(patch_ckpt, 'cfrl')

    def ncm(self, stage1_ckpt, method, config=None):
        """NCM on the frozen stage-1 backbone (only its ``backbone.`` weights match the NCM
        model; the class means come from ClassMeanHook)."""
        if not self.done(f'{method}-ncm'):
            self.test(config or self.spec['ncm'], stage1_ckpt, self.work_dir / f'{method}-ncm')

    def classifier(self, config, stage1_ckpt, work_dir):
        """cRT on a frozen backbone; with several ``--crt-lrs`` one run per learning rate
        (``<work_dir>-lr<lr>``), the one with the best final top-1 on the validation split is
        tested, and ``lr_choice.json`` in ``work_dir`` records the choice."""
        e2, lrs = self.args.epochs_cls, self.args.crt_lrs
        options = classifier_options(e2, stage1_ckpt) + self.args.stage2_options
        if len(lrs) <= 1:
            lr_opts = [f'optim_wrapper.optimizer.lr={lrs[0]}'] if lrs else []
            self.train(config, work_dir, options + lr_opts)
            self.test(config, work_dir / f'epoch_{e2}.pth', work_dir)
            return
        runs = {}
        for lr in lrs:
            run_dir = work_dir.with_name(f'{work_dir.name}-lr{lr:g}')
            if not (run_dir / f'epoch_{e2}.pth').exists():
                self.train(config, run_dir, options + [f'optim_wrapper.optimizer.lr={lr}'])
            runs[lr] = run_dir
        if self.args.dry_run:
            return
        scores = {lr: last_val_top1(run_dir) for lr, run_dir in runs.items()}
        best = max(scores, key=lambda lr: scores[lr])
        work_dir.mkdir(parents=True, exist_ok=True)
        (work_dir / 'lr_choice.json').write_text(json.dumps(dict(
            lr=best, folder=runs[best].name, val_top1={f'{k:g}': v for k, v in scores.items()},
            num_val=self.spec['num_val']), indent=1))
        self.test(config, runs[best] / f'epoch_{e2}.pth', work_dir)

    def start(self, script='tools/benchmark/lt_results.py'):
        """Record the invocation in ``commands.sh`` and prepare the data."""
        with open(self.work_dir / 'commands.sh', 'a') as f:
            f.write(f'# {time.strftime("%Y-%m-%d %H:%M")}: python {script} '
                    + ' '.join(shlex.quote(a) for a in self.args.argv) + '\n')
        self.call([self.python, 'tools/prepare_data.py'])

    def run(self):
        self.start()
        if self.args.command == 'ab':
            return self.ab()
        for method in self.args.methods:
            if method == 'decoupled':
                self.decoupled()
            elif method == 'cfrl':
                self.cfrl()
            else:
                self.contrastive(method)


def repo_relative(text: str) -> str:
    """``text`` with the repository's absolute path dropped from the paths under it (commands are
    run from the repository root, so they stay valid)."""
    return text.replace(str(ROOT) + os.sep, '')


def last_val_top1(run_dir: Path) -> float:
    """Top-1 of a run's last validation (mmengine's ``vis_data/scalars.json``, newest log
    folder that has one)."""
    for scalars in sorted(run_dir.glob('*/vis_data/scalars.json'), reverse=True):
        values = [json.loads(line).get('accuracy/top1') for line in
                  scalars.read_text().splitlines() if line.strip()]
        values = [v for v in values if v is not None]
        if values:
            return values[-1]
    raise FileNotFoundError(f'{run_dir}: no validation top-1 in */vis_data/scalars.json')


# --------------------------------------------------------------------------------------------
# table
# --------------------------------------------------------------------------------------------
TIME_RE = re.compile(r'^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) - mmengine')


def epochs_run(folder: Path):
    """The last epoch a training folder saved a checkpoint for (None if it holds none)."""
    found = [int(m.group(1)) for p in folder.glob('epoch_*.pth')
             if (m := re.fullmatch(r'epoch_(\d+)\.pth', p.name))]
    return max(found) if found else None


def log_device(folder: Path):
    """The device a folder's first log ran on, from mmengine's environment header."""
    for log in sorted(folder.glob('*/*.log')):
        text = log.read_text()
        gpu = re.search(r'^\s+GPU [\d,]+: (.+)$', text, re.M)
        if gpu:
            return gpu.group(1).strip()
        if 'CUDA available: False' in text:
            return 'CPU'
    return '?'


def wall_minutes(folder: Path):
    """Minutes between the first and last timestamps of a folder's logs (training and test)."""
    total = 0.
    for log in sorted(folder.glob('*/*.log')):
        stamps = [m.group(1) for line in log.read_text().splitlines()
                  if (m := TIME_RE.match(line))]
        if len(stamps) >= 2:
            t0, t1 = (time.mktime(time.strptime(s, '%Y/%m/%d %H:%M:%S')) for s in
                      (stamps[0], stamps[-1]))
            total += t1 - t0
    return total / 60


def per_class_csv(folder: Path):
    found = sorted(folder.glob('*/per_class_accuracy.csv')) + sorted(
        folder.glob('per_class_accuracy.csv'))
    return found[-1] if found else None


def fmt(value):
    if isinstance(value, (int, float)) and not math.isnan(value):
        return f'{value:.2f}'
    return '-'


def collect(work_dir: Path):
    """One dict per row that has a test result."""
    rows = []
    for label, stage1, stage2, result in ROWS:
        found = read_method(work_dir / result)
        if found is None:
            continue
        metrics, note = found
        choice, sweep = work_dir / result / 'lr_choice.json', []
        if stage2 and choice.exists():  # cRT learning rate chosen on the validation split
            choice = json.loads(choice.read_text())
            stage2 = choice['folder']
            sweep = [f'{result}-lr{lr}' for lr in choice['val_top1']]
            tried = ', '.join(f'{lr}: {top1:.2f}' for lr, top1 in choice['val_top1'].items())
            note = (note + '; ' if note else '') + (
                f'cRT lr {choice["lr"]:g} chosen on {choice["num_val"]} val images '
                f'(val top-1 {tried})')
        s1 = [epochs_run(work_dir / f) for f in stage1]
        s2 = epochs_run(work_dir / stage2) if stage2 else 0
        # every run that made this model (the whole cRT learning-rate sweep included)
        folders = dict.fromkeys(stage1 + sweep + [stage2 or result, result])
        rows.append(dict(
            label=label, key=result, metrics=metrics, note=note,
            epochs=' + '.join(str(e) for e in s1) + f' / {s2}',
            device=log_device(work_dir / stage1[0]),
            minutes=sum(wall_minutes(work_dir / f) for f in folders),
            per_class=read_text(per_class_csv(work_dir / result))))
    return rows


def read_text(path):
    """A file's text, None when there is no such file."""
    return path.read_text() if path is not None and path.exists() else None


# --------------------------------------------------------------------------------------------
# records: the facts a table was made of, kept beside the page (run folders are not)
# --------------------------------------------------------------------------------------------
def records_path(out: Path) -> Path:
    """The record file of a results page: ``docs/results.md`` -> ``docs/results_records.json``."""
    return out.with_name(f'{out.stem}_records.json')


def merge_rows(record: dict, on_disk: dict, order, records_name: str, what: str = 'rows'):
    """The rows of a table by key, in ``order``: those found on disk, else the recorded ones;
    ``record['rows']`` becomes them. Also returns the lines that count the recorded ones."""
    by_key = {**record.get('rows', {}), **on_disk}
    record['rows'] = {key: by_key[key] for key in order if key in by_key}
    recorded = len(record['rows']) - len(on_disk)
    note = [] if not recorded else [
        '', f'{recorded} of these {what} come from the record file (`{records_name}`): their '
        'run folders are no longer here; the record keeps what the table showed when they were.']
    return record['rows'], note


def merge_commands(record: dict, work_dir: Path) -> str:
    """The command log of a work dir's table: its ``commands.sh`` after the logs of earlier
    folders of the same name that are gone. ``record['commands']`` is the file as last tabled;
    a file that does not continue it belongs to a new folder, and the recorded text moves to
    ``record['commands_before']``. Paths are kept relative to the repository."""
    on_disk, last = read_text(work_dir / 'commands.sh'), record.get('commands') or ''
    if on_disk is not None:
        on_disk = repo_relative(on_disk)
        if not on_disk.startswith(last):
            record['commands_before'] = record.get('commands_before', '') + last
        record['commands'] = on_disk
    return record.get('commands_before', '') + (record.get('commands') or '')


def planned_epochs(folder: Path):
    """``train_cfg.max_epochs`` of the config a training folder dumped (None if unknown)."""
    for cfg in sorted(folder.glob('*.py')):
        m = re.search(r'^train_cfg\s*=\s*dict\((.*?)\)\s*$', cfg.read_text(), re.M | re.S)
        found = m and re.search(r'max_epochs\s*=\s*(\d+)', m.group(1))
        if found:
            return int(found.group(1))
    return None


def in_progress(work_dir: Path, rows):
    """Lines for the models of ROWS whose stage 1 has started but that have no test result:
    an unfinished run is named, never put in the table."""
    done = {r['key'] for r in rows}
    lines, seen = [], set()
    for label, stage1, _, result in ROWS:
        if result in done:
            continue
        # the stages of a chained stage 1 (CFRL: image, then patch) make one line
        started = [f for f in stage1 if f not in seen and (work_dir / f).is_dir()]
        if not started:
            continue
        seen.update(started)
        names = ' + '.join(f'`{f}`' for f in started)
        at = ' + '.join(f'{epochs_run(work_dir / f) or 0} of {planned_epochs(work_dir / f) or "?"}'
                        for f in started)
        lines.append(f'- {names} ({label} and its other stage-2 rows): stage 1 at epoch {at}; '
                     'not reported until complete (`lt_results.py run` resumes it from its '
                     'last checkpoint)')
    return lines


def ordering_check(rows, suffix=''):
    """Whether top-1 follows SCL < DSCL < DSCL + PBSD, for the rows whose folders are
    ``<method><suffix>`` (``''``: cRT, ``'-ncm'``: NCM)."""
    by_key = {r['key']: r['metrics']['top1'] for r in rows}
    keys = [k + suffix for k in ORDERING]
    if not all(k in by_key for k in keys):
        return 'not checked (' + ', '.join(k for k in keys if k not in by_key) + ' not run)'
    values = [by_key[k] for k in keys]
    holds = all(a < b for a, b in zip(values, values[1:]))
    names = ('SCL', 'DSCL', 'DSCL + PBSD')
    sep = ' < ' if holds else ' vs '
    chain = sep.join(f'{n} {v:.2f}' for n, v in zip(names, values))
    return ('**holds**: ' if holds else '**does not hold**: ') + chain


def demote(text: str) -> str:
    """A benchmark's output inside this page: its '# title' line becomes italic text, so it
    does not open a top-level section."""
    return '\n'.join(f'*{ln[2:]}*' if ln.startswith('# ') else ln
                     for ln in text.strip().splitlines())


def dataset_key(work_dir: Path):
    for key, spec in DATASETS.items():
        if spec['dn'] in work_dir.name:
            return key
    raise ValueError(f'{work_dir}: cannot tell the dataset from the folder name '
                     f'(expected one of {[s["dn"] for s in DATASETS.values()]})')


def section(work_dir: Path, doc_dir: Path, record: dict, records_name: str):
    """The markdown section of a benchmark work dir; ``record`` (this work dir's entry of the
    record file) supplies the rows whose run folders are gone and is updated in place with
    everything the section shows."""
    key = dataset_key(work_dir)
    spec = DATASETS[key]
    rows, recorded = merge_rows(record, {r['key']: r for r in collect(work_dir)},
                                [result for *_, result in ROWS], records_name)
    rows = list(rows.values())
    record['epoch_time'] = read_text(work_dir / 'epoch_time.md') or record.get('epoch_time')
    commands = merge_commands(record, work_dir)
    lines = [f'## {spec["name"]}, {spec["backbone"]} (`{work_dir.name}`)', '']
    speed_lines = []
    if record['epoch_time']:
        speed_lines = ['Model speed on the machine that made this page (`epoch_time.md`, written '
                       'by `tools/benchmark/epoch_time.py`):', '', demote(record['epoch_time']),
                       '']
    if not rows:
        return '\n'.join(lines + [f'No method was run here (`{work_dir.name}` holds no '
                                  'test results).', ''] + speed_lines)
    published = {**PUBLISHED.get(key, {})}
    lines += [
        '| method | top-1 | Many | Medium | Few | top-5 | epochs (stage 1 / 2) | device '
        '| wall min (all stages) | published top-1 | note |', '|---' * 11 + '|'
    ]
    for r in rows:
        m = r['metrics']
        pub = published.get(r['label'])
        lines.append(
            f'| {r["label"]} | {fmt(m.get("top1"))} | {fmt(m.get("many"))} | '
            f'{fmt(m.get("medium"))} | {fmt(m.get("few"))} | {fmt(m.get("top5"))} | '
            f'{r["epochs"]} | {r["device"]} | {r["minutes"]:.0f} | '
            f'{f"{pub[0]:.1f}" if pub else "-"} | {r["note"]} |')
    lines += recorded
    running = in_progress(work_dir, rows)
    if running:
        lines += ['', 'Unfinished runs in this folder (no row until their schedule completes):',
                  ''] + running
    lines += ['', 'Ordering of the DSCL paper (SCL < DSCL < DSCL + PBSD, top-1):', '',
              f'- with cRT (the paper\'s protocol): {ordering_check(rows)}',
              f'- with NCM: {ordering_check(rows, "-ncm")}', '']
    best = max(rows, key=lambda r: r['metrics'].get('top1', -1))
    plot = doc_dir / f'{work_dir.name}_per_class.png'
    if best.get('per_class'):
        with tempfile.TemporaryDirectory() as tmp:
            csv_file = Path(tmp) / 'per_class_accuracy.csv'
            csv_file.write_text(best['per_class'])
            subprocess.run([sys.executable, str(ROOT / 'tools/analysis/plot_lt_accuracy.py'),
                            str(csv_file), '--labels', best['label'], '--out', str(plot),
                            '--title', f'{spec["name"]}: {best["label"]} (best top-1 here)'],
                           check=True, stdout=subprocess.DEVNULL)
        record['plot_of'] = best['label']
    elif not (plot.exists() and record.get('plot_of') == best['label']):
        plot = None  # a recorded row without its per-class numbers and no plot made of it
    if plot is not None:
        lines += [f'Per-class test accuracy of the best model here ({best["label"]}, '
                  f'top-1 {best["metrics"]["top1"]:.2f}):', '',
                  f'![per-class accuracy]({plot.name})', '']
    lines += speed_lines
    lines += commands_block(commands, 'Commands that produced these rows')
    return '\n'.join(lines)


def commands_block(commands, heading: str):
    """Markdown lines listing a run folder's ``commands.sh`` text, as ``merge_commands`` returns
    it (repository-relative already; none if it has none)."""
    if not commands:
        return []
    return [f'{heading} (`commands.sh` of the run):', '', '```bash', commands.strip(), '```', '']


def published_section():
    lines = ['## Published numbers', '',
             'For orientation; the settings differ from ours (schedules, datasets), so only '
             'the orderings are comparable.', '', '| setting | method | top-1 | source |',
             '|---|---|---|---|']
    names = {'cifar10': 'CIFAR-10-LT (IR 100)', 'imagenet-lt': 'ImageNet-LT'}
    for setting, rows in PUBLISHED.items():
        for method, (value, source) in rows.items():
            lines.append(f'| {names[setting]} | {method} | {value:.1f} | {source} |')
    return '\n'.join(lines) + '\n'


INTRO = """\
Generated by `python tools/benchmark/lt_results.py table {dirs}` from the run folders that
`lt_results.py run` fills (test metrics, checkpoints, mmengine logs); do not edit it by hand.
What each table shows is also kept in `{records}` beside this page: a run folder that is gone
(a folder lives on the machine that trained it) keeps its rows from there, so later runs add rows
without losing earlier ones; every such row is counted under its table.
Each row is tested on the balanced test split. *epochs* are the epochs each stage actually ran
(stage 1, `+` between chained stage-1 runs, then the classifier stage; read from the checkpoints),
*device* and *wall min* (all stages of that model, tests included) come from the training logs.
Many / Medium / Few: classes with > 100 / 20-100 / < 20 training images; `-` where a split has no
class (CIFAR-10-LT's rarest class has 50 images, so it has no Few class).
"""


def num_tested(folder: Path):
    """Test images behind a folder's accuracy (the per-class CSV's ``num_samples``), or None."""
    csv_file = per_class_csv(folder)
    if csv_file is None:
        return None
    import csv
    with open(csv_file) as f:
        return sum(int(row['num_samples']) for row in csv.DictReader(f)) or None


def sampling_error(top1_a, n_a, top1_b, n_b, z=1.96):
    """z standard errors (in points) of the difference of two accuracies (in %) measured on
    n_a and n_b test images; 0 when a count is unknown."""
    if not n_a or not n_b:
        return 0.0
    pa, pb = top1_a / 100, top1_b / 100
    return 100 * z * math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)


def per_classifier(values: dict) -> str:
    """``{'crt': 1.0, 'ncm': 0.5}`` -> ``'cRT 1.00, NCM 0.50'`` (empty for no values)."""
    return ', '.join(f'{"cRT" if p == "crt" else "NCM"} {v:.2f}' for p, v in values.items())


def fidelity_section(work_dir: Path, record: dict, records_name: str):
    """The A/B table of ``lt_results.py ab``: per arm, cRT and NCM top-1 and their difference
    to the main config's run ('mmlt'), judged against the seed-to-seed difference of the main
    config ('mmlt' vs 'mmlt-seed1') of the same protocol. ``record`` (this work dir's entry of
    the record file) supplies the arms whose run folders are gone and is updated in place."""
    key = dataset_key(work_dir)
    arms = FIDELITY[key]
    recorded = record.get('rows', {})
    on_disk = {}  # arm -> {crt / ncm: top-1, tested_crt / tested_ncm: test images, minutes}
    for arm, spec in arms.items():
        got_any = {}
        for proto, folder in (('crt', arm), ('ncm', f'{arm}-ncm')):
            got = read_method(work_dir / folder)
            if got is not None:
                got_any.update({proto: got[0]['top1'],
                                f'tested_{proto}': num_tested(work_dir / folder)})
        if got_any:
            # a stage-2 arm reuses the stage 1 of another arm: only its own runs count
            folders = ([] if spec.get('stage1_name') else [f'{arm}-stage1']) + [arm, f'{arm}-ncm']
            got_any['minutes'] = sum(wall_minutes(work_dir / f) for f in folders)
            on_disk[arm] = {**recorded.get(arm, {}), **got_any}
    facts, recorded = merge_rows(record, on_disk, list(arms), records_name, what='arms')
    epochs = record.setdefault('epochs', {})
    for stage, folder in (('stage1', 'mmlt-stage1'), ('crt', 'mmlt')):
        epochs[stage] = epochs_run(work_dir / folder) or epochs.get(stage)
    commands = merge_commands(record, work_dir)
    found = {(arm, p): f[p] for arm, f in facts.items() for p in ('crt', 'ncm') if p in f}
    tested = {(arm, p): f.get(f'tested_{p}') for arm, f in facts.items() for p in ('crt', 'ncm')}
    lines = [f'## Fidelity A/B: {DATASETS[key]["name"]}, DSCL + PBSD (`{work_dir.name}`)', '']
    if ('mmlt', 'crt') not in found and ('mmlt', 'ncm') not in found:
        return '\n'.join(lines + [f'No arm was run here (`{work_dir.name}` holds no test '
                                  'results).', ''])
    noise = {}  # the range of the main config over its seeds
    for proto in ('crt', 'ncm'):
        seeds = [v for (arm, p), v in found.items() if p == proto and
                 (arm == 'mmlt' or arm.startswith('mmlt-seed'))]
        if len(seeds) > 1 and ('mmlt', proto) in found:
            noise[proto] = max(seeds) - min(seeds)
    lines += [
        f'Each arm changes one thing of the main config to the authors\' behaviour; stage 1 ran '
        f'{record["epochs"]["stage1"]} epochs, cRT {record["epochs"]["crt"]} epochs, same seed '
        '(0) and budget for every arm (the options are in the commands below). Stage-2 arms '
        'reuse the stage 1 of `mmlt`. *noise*: the larger of the range (max - min) of the main '
        'config over its seeds and the 95 % sampling error of the difference of two accuracies '
        'on the test images (1.96 sqrt(p1 (1 - p1) / n + p2 (1 - p2) / n)); a difference to '
        '`mmlt` within it is not resolved by this budget.', '',
        '| arm | what changes | cRT top-1 | vs mmlt | NCM top-1 | vs mmlt | verdict | '
        'wall min (own runs) |', '|---' * 8 + '|']

    def cell(arm, proto):
        if (arm, proto) not in found:
            return '-', '-'
        value = found[arm, proto]
        if arm == 'mmlt' or ('mmlt', proto) not in found:
            return f'{value:.2f}', '-'
        return f'{value:.2f}', f'{value - found["mmlt", proto]:+.2f}'

    def verdict(arm):
        if arm == 'mmlt' or arm.startswith('mmlt-seed'):
            return ''
        words = []
        for proto, name in (('crt', 'cRT'), ('ncm', 'NCM')):
            if (arm, proto) not in found or proto not in noise:
                continue
            diff = found[arm, proto] - found['mmlt', proto]
            limit = max(noise[proto], sampling_error(found[arm, proto], tested[arm, proto],
                                                     found['mmlt', proto],
                                                     tested['mmlt', proto]))
            words.append(f'{name}: ' + ('within noise' if abs(diff) <= limit else
                                        'better' if diff > 0 else 'worse'))
        return '; '.join(words)

    for arm, spec in arms.items():
        if not any((arm, p) in found for p in ('crt', 'ncm')):
            continue
        crt, d_crt = cell(arm, 'crt')
        ncm, d_ncm = cell(arm, 'ncm')
        lines.append(f'| {arm} | {spec["what"]} | {crt} | {d_crt} | {ncm} | {d_ncm} | '
                     f'{verdict(arm)} | {facts[arm]["minutes"]:.0f} |')
    lines += recorded
    n_test = tested.get(('mmlt', 'crt')) or tested.get(('mmlt', 'ncm'))
    if n_test and ('mmlt', 'crt') in found:
        alone = {p: sampling_error(found['mmlt', p], n_test, found['mmlt', p], n_test)
                 for p in ('crt', 'ncm') if ('mmlt', p) in found}
        lines += ['', f'Sampling error alone (95 %, {n_test} test images, at the `mmlt` '
                  f'accuracy): {per_classifier(alone)} points.']
    lines += ['', 'noise (range of the main config over its seeds): '
              f'{per_classifier(noise) or "not measured"}.', '']
    lines += commands_block(commands, 'Commands')
    return '\n'.join(lines)


def json_safe(value):
    """``value`` with NaN floats (a metric of an empty split) as None, for strict JSON."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def write_table(work_dirs, out: Path, notes: str = ''):
    """Write the results page ``out`` from ``work_dirs`` and keep what it shows in its record
    file (``records_path(out)``), which supplies the rows of run folders that are gone."""
    out.parent.mkdir(parents=True, exist_ok=True)
    records_file = records_path(out)
    records = json.loads(records_file.read_text()) if records_file.exists() else {}
    dirs = ' '.join(str(wd) for wd in work_dirs)
    parts = ['# Measured results', '', INTRO.format(dirs=dirs, records=records_file.name)]
    if notes.strip():
        parts += [notes.strip(), '']
    for wd in work_dirs:
        record = records.setdefault(wd.name, {})
        if wd.name.startswith('det_'):  # tools/benchmark/det_results.py run
            from det_results import det_section
            parts.append(det_section(wd, record, records_file.name))
        elif wd.name.startswith('fidelity_'):
            parts.append(fidelity_section(wd, record, records_file.name))
        else:
            parts.append(section(wd, out.parent, record, records_file.name))
    parts.append(published_section())
    out.write_text('\n'.join(parts))
    records_file.write_text(json.dumps(json_safe(records), indent=1, sort_keys=True) + '\n')
    return out.read_text()


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be at least 1, got {text}')
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument('--dataset', choices=sorted(DATASETS), default='cifar10')
    common.add_argument('--epochs-ce', type=int, default=200, help='CE stage 1 (recipe: 200)')
    common.add_argument('--epochs-cls', type=int, default=10,
                        help='classifier stage (recipe: 10)')
    common.add_argument('--epochs-con', type=int, default=200,
                        help='SCL / DSCL (+ PBSD) stage 1 (recipe: 200)')
    common.add_argument('--epochs-cfrl', type=int, nargs=2, default=(200, 100),
                        metavar=('IMAGE', 'PATCH'),
                        help='CFRL stages 1a and 1b (recipe: 200 100)')
    common.add_argument('--stage1-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='cfg-options added to every contrastive stage-1 run (SCL / DSCL / '
                        'PBSD and both CFRL stages), e.g. model.momentum=0.01 for short '
                        'schedules')
    common.add_argument('--stage2-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='cfg-options added to every cRT run')
    common.add_argument('--crt-lrs', type=float, nargs='+', default=[],
                        help="cRT learning rate(s); several: one run each, the best on the "
                        "validation split is tested (default: the config's); values added "
                        "later train only the new runs and choose again")
    common.add_argument('--amp', choices=['bf16', 'fp16'],
                        help='mixed precision for every training (tools/train.py --amp); on a '
                        'CPU, bf16 only where it has fast bf16 kernels (AVX512): on an AVX2 CPU '
                        'it is about 20x slower than fp32')
    common.add_argument('--compile', action='store_true',
                        help='torch.compile the backbones (tools/train.py --compile)')
    common.add_argument('--threads', type=int,
                        help='CPU threads of each run (OMP_NUM_THREADS); on a 2-core CPU two '
                        'single-thread runs side by side train about 25 %% more images per '
                        'second than one run with two threads')
    common.add_argument('--checkpoint-every', type=positive_int, default=CHECKPOINT_EVERY,
                        metavar='N',
                        help='stage-1 epochs between the checkpoints an interrupted run resumes '
                        'from (and the last epoch); smaller loses less work when a run is '
                        'stopped, each checkpoint of a contrastive model (queue included) '
                        'takes some seconds')
    common.add_argument('--gpus', type=int, default=1)
    common.add_argument('--work-dir', type=Path)
    common.add_argument('--python', default='python3')
    common.add_argument('--dry-run', action='store_true', help='print the commands, run nothing')
    run = sub.add_parser('run', help='train and test every method on one benchmark',
                         parents=[common])
    run.add_argument('--methods', nargs='+', choices=METHODS, default=list(METHODS))
    ab = sub.add_parser('ab', help='the fidelity A/B of the DSCL + PBSD recipe (short runs, '
                        'work dir fidelity_<dataset>)', parents=[common])
    ab.add_argument('--arms', nargs='+', help=f'default: all of {list(FIDELITY["cifar10"])}')
    table = sub.add_parser('table', help='write the results document from WORK_DIRs')
    table.add_argument('work_dirs', type=Path, nargs='+')
    table.add_argument('--out', type=Path, default=ROOT / 'docs' / 'results.md')
    table.add_argument('--notes', type=Path,
                       help='markdown commentary put above the tables (default: none)')
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.command in ('run', 'ab'):
        Runner(args).run()
    else:
        notes = args.notes.read_text() if args.notes else ''
        print(write_table(args.work_dirs, args.out, notes))


if __name__ == '__main__':
    main()
