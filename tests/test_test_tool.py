"""``tools/test.py`` with MMPretrain's options (``--tta``, ``--show-dir``, ...), and the launchers
``tools/slurm_test.sh`` / ``tools/dist_test.sh``.

The runs test a CE ResNet-32 checkpoint (CIFAR-10-LT stage 1) on 40 real CIFAR-10 test images. The
checkpoint is made in seconds instead of trained: He-initialised convolutions, BatchNorm statistics
of 200 training images, and a linear head of centred class means. Unlike a briefly trained network
(which predicts one class for every image), it scores the images differently, and an image
differently from its horizontal flip, so the TTA checks below can fail.
"""
import importlib.util
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate

from _utils import REPO, _spread

CE_CONFIG = REPO / 'configs/decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100.py'
STAGE2_CONFIGS = [
    'crt_resnet32_1xb512-10e_cifar10-lt-r100.py',  # DecoupledClassifier + LinearClsHead
    'lws_resnet32_1xb512-10e_cifar10-lt-r100.py',  # DecoupledClassifier + LWSHead
    'tau-norm_resnet32_cifar10-lt-r100.py',  # ImageClassifier + TauNormHead
    'ncm_resnet32_cifar10-lt-r100.py',  # ImageClassifier + NCMHead (+ ClassMeanHook)
]
NUM_TEST = 40
BATCH_SIZE = 8  # divides NUM_TEST: VisualizationHook numbers samples as batch_idx * batch size


def _load_tool():
    spec = importlib.util.spec_from_file_location('mmlt_tools_test', REPO / 'tools' / 'test.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return _load_tool()


def _shrink_test_loader(cfg: Config, data_root, num: int = NUM_TEST) -> None:
    loader = cfg.test_dataloader
    loader.dataset.data_root = str(data_root)
    loader.dataset.indices = _spread(loader.dataset, num)
    loader.batch_size = BATCH_SIZE
    loader.num_workers = 0
    loader.persistent_workers = False


def _build_model(cfg: Config):
    """The model as the Runner builds it (with the config's top-level data_preprocessor)."""
    from mmpretrain.registry import MODELS
    model_cfg = dict(cfg.model)
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    return MODELS.build(model_cfg)


def _batch(dataset_cfg: Config, indices=None) -> dict:
    from mmpretrain.registry import DATASETS
    if indices is not None:
        dataset_cfg = dict(dataset_cfg, indices=indices)
    dataset = DATASETS.build(dataset_cfg)
    return default_collate([dataset[i] for i in range(len(dataset))])


@torch.no_grad()
def _scores(model, data: dict) -> torch.Tensor:
    """``(N, C)`` pred_score of ``model.test_step`` (copied: test_step fills the given samples)."""
    return torch.stack([s.pred_score.clone() for s in model.test_step(data)])


def _flipped(data: dict) -> dict:
    """The batch with every image flipped horizontally (what ``RandomFlip(prob=1.)`` does)."""
    return dict(data, inputs=[img.flip(-1) for img in data['inputs']])


@pytest.fixture(scope='module')
def ce(tmp_path_factory, cifar10_jpeg_root):
    """The shrunk CE config (dumped), its checkpoint, and the checkpoint's scores computed
    directly on the test images and on their horizontal flips."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    root = tmp_path_factory.mktemp('ce')
    cfg = Config.fromfile(str(CE_CONFIG))
    _shrink_test_loader(cfg, cifar10_jpeg_root)
    config = root / 'ce_test.py'
    cfg.dump(str(config))

    torch.manual_seed(0)
    model = _build_model(cfg)
    model.init_weights()
    train = _batch(dict(cfg.test_dataloader.dataset, split='train', imb_ratio=1),
                   indices=list(range(0, 50000, 250)))
    labels = torch.tensor([int(s.gt_label) for s in train['data_samples']])
    with torch.no_grad():
        inputs = model.data_preprocessor(train, False)['inputs']
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.momentum = None  # running statistics = the batch's
        model.train()
        model.extract_feat(inputs)
        model.eval()
        feats = model.extract_feat(inputs)[-1]
        center = feats.mean(0)
        means = torch.stack([(feats[labels == c] - center).mean(0) for c in range(10)])
        weight = torch.nn.functional.normalize(means, dim=1)
        model.head.fc.weight.copy_(weight)
        model.head.fc.bias.copy_(-weight @ center)
    checkpoint = root / 'ce.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)

    test = _batch(cfg.test_dataloader.dataset)
    scores, flip_scores = _scores(model, test), _scores(model, _flipped(test))
    return SimpleNamespace(
        config=config, checkpoint=checkpoint, state_dict=model.state_dict(),
        scores=scores, flip_scores=flip_scores,
        gt=torch.tensor([int(s.gt_label) for s in test['data_samples']]),
        img_paths=[s.img_path for s in test['data_samples']])


def _run_tool(*args, cwd) -> str:
    env = dict(os.environ, OMP_NUM_THREADS='1')
    cmd = [sys.executable, str(REPO / 'tools' / 'test.py'), *map(str, args)]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    return log


def _logged_metrics(work_dir: Path) -> dict:
    """The test metrics of the (only) run in ``work_dir``, from its json log."""
    logs = list(work_dir.glob('*/*.json'))
    assert len(logs) == 1, logs
    return json.loads(logs[0].read_text())


def _top1(scores: torch.Tensor, gt: torch.Tensor) -> float:
    return 100 * (scores.argmax(1) == gt).float().mean().item()


def test_tta_averages_the_scores_of_image_and_flip(ce, tmp_path):
    """``--tta`` (no tta_model / tta_pipeline in the config): each prediction's scores are the
    mean of the model's scores on the image and on its horizontal flip, and LongTailAccuracy
    evaluates these merged scores."""
    out = tmp_path / 'preds.pkl'
    _run_tool(ce.config, ce.checkpoint, '--tta', '--out', out, '--work-dir', tmp_path / 'work',
              cwd=tmp_path)
    with open(out, 'rb') as f:
        preds = {p['img_path']: p for p in pickle.load(f)}
    assert sorted(preds) == sorted(ce.img_paths)
    got = torch.stack([preds[p]['pred_score'] for p in ce.img_paths])

    average = (ce.scores + ce.flip_scores) / 2
    torch.testing.assert_close(got, average, atol=1e-5, rtol=0)
    # the label is that of the averaged score (MMPretrain's AverageClsScoreTTA keeps the first
    # view's, the flip's)
    labels = torch.cat([preds[p]['pred_label'] for p in ce.img_paths])
    assert torch.equal(labels, got.argmax(1))
    # the flip matters for this checkpoint, so the check above can tell TTA from no TTA
    assert (average - ce.scores).abs().max() > 1e-2
    assert (average.argmax(1) != ce.scores.argmax(1)).any()

    metrics = _logged_metrics(tmp_path / 'work')
    assert metrics['accuracy/top1'] == pytest.approx(_top1(average, ce.gt), abs=1e-4)
    assert {'accuracy/many', 'accuracy/medium', 'accuracy/few'} <= set(metrics)


def test_show_dir_paints_every_interval_th_sample(ce, tmp_path):
    """``--show-dir DIR --interval 3`` enables the configs' VisualizationHook: one painted image
    per third test sample, named after its image; the metrics are those without TTA."""
    vis, out = tmp_path / 'vis', tmp_path / 'metrics.json'
    _run_tool(ce.config, ce.checkpoint, '--show-dir', vis, '--interval', 3, '--out', out,
              '--out-item', 'metrics', '--work-dir', tmp_path / 'work', cwd=tmp_path)
    # CIFAR-10 image names repeat across the class folders: images of one name overwrite
    expected = {f'{Path(p).name}_0.png' for p in ce.img_paths[::3]}
    assert {f.name for f in vis.iterdir()} == expected

    import mmcv
    painted = mmcv.imread(str(vis / sorted(expected)[0]))
    assert painted is not None and painted.ndim == 3 and min(painted.shape[:2]) >= 32
    metrics = json.loads(out.read_text())
    assert metrics['accuracy/top1'] == pytest.approx(_top1(ce.scores, ce.gt), abs=1e-4)


@pytest.mark.parametrize('argv, message', [
    (['--tta', '--show-dir', 'vis'], '--tta cannot be combined with --show'),
    (['--tta', '--show'], '--tta cannot be combined with --show'),
    (['--interval', '0', '--show-dir', 'vis'], '--interval must be a positive integer'),
    (['--out-item', 'metrics'], '--out-item needs --out'),
])
def test_bad_option_combinations_exit_with_a_message(tool, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        tool.parse_args(['config.py', 'model.pth', *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_merge_args_tta_and_visualization(tool, tmp_path):
    """What the options do to the config: the default flip TTA around the classifier after the
    --cfg-options, the config's own tta_model / tta_pipeline kept, the hook switched on."""
    config = str(REPO / 'configs/decoupled' / STAGE2_CONFIGS[2])  # tau-norm
    args = tool.parse_args([config, 'model.pth', '--tta', '--no-pin-memory', '--cfg-options',
                            'model.head.tau=0.5', 'test_dataloader.num_workers=0'])
    cfg = tool.merge_args(Config.fromfile(config), args)
    assert cfg.model.type == 'mmpretrain.AverageScoreTTA'
    assert cfg.model.module.type == 'ImageClassifier'
    assert (cfg.model.module.head.type, cfg.model.module.head.tau) == ('TauNormHead', 0.5)
    loader = cfg.test_dataloader
    assert loader.pin_memory is False and loader.persistent_workers is False
    assert loader.dataset.pipeline == cfg.tta_pipeline
    assert [t['type'] for t in cfg.tta_pipeline] == ['LoadImageFromFile', 'TestTimeAug']
    assert cfg.tta_pipeline[-1]['transforms'] == [
        [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)],
        [dict(type='PackInputs')]]

    own = Config.fromfile(config)
    own.tta_model = dict(type='AverageClsScoreTTA')
    own.tta_pipeline = [dict(type='LoadImageFromFile'),
                        dict(type='TestTimeAug', transforms=[[dict(type='PackInputs')]])]
    own.model.data_preprocessor = dict(type='ClsDataPreprocessor', num_classes=10)
    cfg = tool.merge_args(own, tool.parse_args([config, 'model.pth', '--tta']))
    assert cfg.model.type == 'AverageClsScoreTTA'
    # BaseTTAModel hands its data_preprocessor to the module: the module's own one
    own_preprocessor = dict(type='ClsDataPreprocessor', num_classes=10)
    assert cfg.model.data_preprocessor == cfg.model.module.data_preprocessor == own_preprocessor
    assert cfg.test_dataloader.dataset.pipeline == own.tta_pipeline

    args = tool.parse_args([config, 'model.pth', '--show-dir', str(tmp_path), '--interval', '7'])
    vis = tool.merge_args(Config.fromfile(config), args).default_hooks.visualization
    assert vis.type == 'VisualizationHook'
    assert (vis.enable, vis.out_dir, vis.interval, vis.show) == (True, str(tmp_path), 7, False)

    no_hook = Config.fromfile(config)
    no_hook.default_hooks.pop('visualization')
    with pytest.raises(ValueError, match='VisualizationHook'):
        tool.merge_args(no_hook, args)


@pytest.mark.parametrize('config', STAGE2_CONFIGS)
def test_tta_merges_the_predictions_of_stage2_models(tool, ce, cifar10_jpeg_root, tmp_path,
                                                     config):
    """AverageClsScoreTTA around mmlt's stage-2 models (DecoupledClassifier, LWSHead,
    TauNormHead, NCMHead) averages their DataSample scores over the flips, and LongTailAccuracy
    evaluates the merged samples."""
    from mmpretrain.registry import METRICS
    path = str(REPO / 'configs/decoupled' / config)
    cfg = tool.merge_args(Config.fromfile(path), tool.parse_args([path, 'model.pth', '--tta']))
    tta = _build_model(cfg)
    module = tta.module
    assert type(module).__name__ == ('DecoupledClassifier' if config[:3] in ('crt', 'lws')
                                     else 'ImageClassifier')
    module.load_state_dict(ce.state_dict, strict=False)  # the CE backbone (and fc)
    if module.head.__class__.__name__ == 'NCMHead':
        torch.manual_seed(0)
        module.head.update_means(torch.zeros(64), torch.randn(10, 64))
    tta.eval()

    _shrink_test_loader(cfg, cifar10_jpeg_root, num=BATCH_SIZE)
    data = _batch(cfg.test_dataloader.dataset)  # TTA pipeline: [flipped, original] per sample
    assert len(data['inputs']) == 2
    with torch.no_grad():
        merged = tta.test_step(data)
    views = [dict(inputs=data['inputs'][i], data_samples=data['data_samples'][i]) for i in (0, 1)]
    flipped, original = _scores(module, views[0]), _scores(module, views[1])
    # the first view is the horizontal flip of the second
    torch.testing.assert_close(_scores(module, _flipped(views[0])), original, atol=1e-5, rtol=0)
    average = (original + flipped) / 2
    assert (average - original).abs().max() > 1e-4
    torch.testing.assert_close(torch.stack([s.pred_score for s in merged]), average)
    assert torch.equal(torch.cat([s.pred_label for s in merged]), average.argmax(1))

    metric = METRICS.build(dict(cfg.test_evaluator, out_dir=str(tmp_path)))
    metric.dataset_meta = dict(class_counts=[10] * 10)
    metric.process(data, [s.to_dict() for s in merged])
    result = metric.evaluate(len(merged))
    gt = torch.tensor([int(s.gt_label) for s in merged])
    assert result['accuracy/top1'] == pytest.approx(_top1(average, gt), abs=1e-4)


def test_ncm_config_runs_with_tta(tool, ce, cifar10_jpeg_root, tmp_path):
    """The NCM config with --tta: ClassMeanHook computes the class means, the test runs."""
    from mmengine.runner import Runner
    path = str(REPO / 'configs/decoupled' / STAGE2_CONFIGS[3])
    args = tool.parse_args([path, str(ce.checkpoint), '--tta', '--work-dir', str(tmp_path)])
    cfg = tool.merge_args(Config.fromfile(path), args)
    _shrink_test_loader(cfg, cifar10_jpeg_root, num=BATCH_SIZE)
    hook = next(h for h in cfg.custom_hooks if h['type'] == 'ClassMeanHook')
    hook.dataloader.update(num_workers=0, persistent_workers=False)
    hook.dataloader.dataset.data_root = str(cifar10_jpeg_root)
    hook.dataloader.dataset.indices = _spread(hook.dataloader.dataset, 40)
    metrics = Runner.from_cfg(cfg).test()
    assert 'accuracy/top1' in metrics


def _fake_command(bin_dir: Path, name: str) -> None:
    """An executable ``name`` that prints its arguments, one per line, and PYTHONPATH."""
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\necho "PYTHONPATH=$PYTHONPATH"\n')
    script.chmod(0o755)


def test_slurm_test_sh_runs_test_py_with_the_slurm_launcher(tmp_path):
    script = REPO / 'tools' / 'slurm_test.sh'
    assert os.access(script, os.X_OK)
    subprocess.run(['bash', '-n', str(script)], check=True)
    _fake_command(tmp_path / 'bin', 'srun')
    env = dict(os.environ, PATH=f'{tmp_path / "bin"}:{os.environ["PATH"]}', GPUS='4',
               GPUS_PER_NODE='2', SRUN_ARGS='--quotatype=auto')
    proc = subprocess.run(
        ['bash', str(script), 'dev', 'lt-test', 'cfg.py', 'model.pth', '--tta', '--out',
         'preds.pkl'], env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    lines = proc.stdout.splitlines()
    test_py = str(REPO / 'tools' / 'test.py')
    assert lines[:9] == ['-p', 'dev', '--job-name=lt-test', '--gres=gpu:2', '--ntasks=4',
                         '--ntasks-per-node=2', '--cpus-per-task=5', '--kill-on-bad-exit=1',
                         '--quotatype=auto']
    assert lines[9:-1] == ['python', '-u', test_py, 'cfg.py', 'model.pth', '--launcher=slurm',
                           '--tta', '--out', 'preds.pkl']
    assert lines[-1].startswith(f'PYTHONPATH={REPO / "tools"}/..:')


def test_dist_test_sh_runs_test_py_with_the_pytorch_launcher(tmp_path):
    script = REPO / 'tools' / 'dist_test.sh'
    subprocess.run(['bash', '-n', str(script)], check=True)
    _fake_command(tmp_path / 'bin', 'python')
    env = dict(os.environ, PYTHON=str(tmp_path / 'bin' / 'python'), PORT='29601')
    proc = subprocess.run(['bash', str(script), 'cfg.py', 'model.pth', '2', '--tta'], env=env,
                          cwd=tmp_path, capture_output=True, text=True, check=True)
    lines = proc.stdout.splitlines()
    assert lines[:2] == ['-m', 'torch.distributed.run']
    assert '--nproc_per_node=2' in lines and '--master_port=29601' in lines
    tail = lines[lines.index(str(REPO / 'tools' / 'test.py')):-1]
    assert tail == [str(REPO / 'tools' / 'test.py'), 'cfg.py', 'model.pth', '--launcher',
                    'pytorch', '--tta']
