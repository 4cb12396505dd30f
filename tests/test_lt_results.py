"""tools/benchmark/lt_results.py: the commands it runs, and the results document it writes from
real run folders (checkpoint names, mmengine logs, metrics.json files)."""
import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location('lt_results',
                                              ROOT / 'tools/benchmark/lt_results.py')
lt_results = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lt_results)


def options_dict(options):
    return {k: v for k, v in (o.split('=', 1) for o in options)}


def test_schedule_options_shrink_the_config_schedule():
    cfg = Config.fromfile(ROOT / 'configs/dscl/dscl_r32_1xb256-coslr-200e_cifar10-lt-r100.py')
    opts = {k: eval(v) for k, v in options_dict(lt_results.schedule_options(6, 10 / 200)).items()}
    cfg.merge_from_dict(opts)
    warmup, cosine = cfg.param_scheduler
    assert cfg.train_cfg.max_epochs == 6
    assert (warmup.type, warmup.begin, warmup.end) == ('LinearLR', 0, 1)
    assert (cosine.type, cosine.begin, cosine.end, cosine.T_max) == ('CosineAnnealingLR', 1, 6, 5)
    # the recipe's share of warm-up is kept where there is room for it
    assert options_dict(lt_results.schedule_options(100, 10 / 200))['param_scheduler.0.end'] == '5'
    with pytest.raises(ValueError, match='1 epochs leave no room'):
        lt_results.schedule_options(1, 10 / 200)


def test_run_dry_run_logs_the_chain_and_skips_finished_runs(tmp_path):
    wd = tmp_path / 'results_cifar10-lt-r100'
    argv = ['run', '--dataset', 'cifar10', '--epochs-con', '6', '--epochs-cls', '2',
            '--epochs-cfrl', '4', '2', '--work-dir', str(wd), '--dry-run']
    lt_results.main(argv + ['--methods', 'dscl-pbsd', 'cfrl', '--stage1-options',
                            'model.momentum=0.01'])
    lines = (wd / 'commands.sh').read_text().splitlines()
    assert lines[0].endswith('lt_results.py ' + ' '.join(argv) + ' --methods dscl-pbsd cfrl '
                             '--stage1-options model.momentum=0.01')
    lines = [ln for ln in lines if not ln.startswith('#')]
    # the extra options reach the three contrastive stage-1 runs, not the classifier runs
    assert sum('model.momentum=0.01' in ln for ln in lines) == 3
    assert not any('model.momentum' in ln for ln in lines if '_crt-' in ln)
    stage1 = [ln for ln in lines if 'dscl-pbsd_r32_1xb256' in ln]
    assert len(stage1) == 1 and 'train_cfg.max_epochs=6' in stage1[0]
    crt = [ln for ln in lines if 'tools/train.py configs/dscl/dscl-pbsd_r32_crt' in ln]
    assert len(crt) == 1
    assert f'model.backbone.init_cfg.checkpoint={wd}/dscl-pbsd-stage1/epoch_6.pth' in crt[0]
    # NCM on each frozen stage-1 backbone, no training
    ncm = [ln for ln in lines if 'ncm_resnet32' in ln]
    assert len(ncm) == 2 and all(ln.startswith('python3 tools/test.py') for ln in ncm)
    assert f'{wd}/dscl-pbsd-stage1/epoch_6.pth' in ncm[0]
    assert f'{wd}/cfrl-patch/epoch_2.pth' in ncm[1]
    patch = [ln for ln in lines if 'cfrl-patch_r32' in ln]
    assert len(patch) == 1 and f'model.init_cfg.checkpoint={wd}/cfrl-image/epoch_4.pth' in patch[0]
    for config in (ROOT / 'configs/dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py',
                   ROOT / 'configs/cfrl/cfrl_r32_crt-1xb512-10e_cifar10-lt-r100.py'):
        assert str(config.relative_to(ROOT)) in '\n'.join(lines)

    # a finished run (its metrics.json exists) is not run again; a stage-1 checkpoint is reused
    for done in ('dscl-pbsd', 'dscl-pbsd-ncm'):
        (wd / done).mkdir()
        (wd / done / 'metrics.json').write_text('{}')
    (wd / 'cfrl-image').mkdir()
    (wd / 'cfrl-image' / 'epoch_4.pth').write_bytes(b'')
    (wd / 'commands.sh').unlink()
    lt_results.main(argv + ['--methods', 'dscl-pbsd', 'cfrl'])
    again = '\n'.join(ln for ln in (wd / 'commands.sh').read_text().splitlines()
                      if not ln.startswith('#'))
    assert 'dscl-pbsd' not in again.replace('dscl-pbsd_r32_crt', '')
    assert 'cfrl-image_r32' not in again and 'cfrl-patch_r32' in again


LOG = """2026/11/23 10:00:00 - mmengine - INFO -
System environment:
    CUDA available: {cuda}
{gpu}
2026/11/23 10:00:00 - mmengine - INFO - Epoch(train)  [1][10/96]  lr: 1.0e-01
2026/11/23 10:{minutes:02d}:00 - mmengine - INFO - Saving checkpoint at {epochs} epochs
"""


def fake_run(folder: Path, epochs: int, minutes: int, metrics=None, gpu=None, per_class=100):
    """A run folder as mmengine leaves it: checkpoints, a timestamped log, metrics.json."""
    (folder / '20261123_225850').mkdir(parents=True)
    (folder / '20261123_225850' / '20261123_225850.log').write_text(LOG.format(
        cuda=gpu is not None, gpu=f'    GPU 0: {gpu}' if gpu else '', minutes=minutes,
        epochs=epochs))
    for e in range(1, epochs + 1):
        (folder / f'epoch_{e}.pth').write_bytes(b'')
    if metrics is not None:
        (folder / 'metrics.json').write_text(json.dumps(
            {f'accuracy/{k}': v for k, v in metrics.items()}))
        (folder / '20261123_225850' / 'per_class_accuracy.csv').write_text(
            'class_index,class_name,train_count,group,num_samples,num_correct,accuracy\n' +
            ''.join(f'{c},c{c},{5000 // (c + 1)},many,{per_class},{50 + c},{50 + c}\n'
                    for c in range(10)))


def make_results(wd: Path, scl: float, dscl: float, dscl_pbsd: float):
    fake_run(wd / 'ce', 12, 10, dict(top1=37.4, many=46.7, medium=0.0, few=float('nan')))
    fake_run(wd / 'crt', 2, 2, dict(top1=54.6, many=54.1, medium=56.6, top5=94.4))
    for method, top1 in (('scl', scl), ('dscl', dscl), ('dscl-pbsd', dscl_pbsd)):
        fake_run(wd / f'{method}-stage1', 6, 5, gpu='NVIDIA H100 80GB HBM3')
        fake_run(wd / method, 2, 2, dict(top1=top1, many=top1 + 5, medium=top1 - 20))
    (wd / 'tau-norm').mkdir()
    (wd / 'tau-norm' / 'tau_norm_sweep.json').write_text(json.dumps(
        dict(tau=1.9, num_val=1000, test={'accuracy/top1': 39.3, 'accuracy/many': 49.1})))


def table_rows(text):
    return {line.split('|')[1].strip(): [c.strip() for c in line.split('|')[2:-1]]
            for line in text.splitlines() if line.startswith('| ') and '---' not in line}


def test_table_is_made_from_the_run_folders(tmp_path):
    wd = tmp_path / 'results_cifar10-lt-r100'
    make_results(wd, scl=40.0, dscl=42.5, dscl_pbsd=45.25)
    (wd / 'commands.sh').write_text(
        f'python3 tools/train.py X --work-dir {lt_results.ROOT}/work_dirs/ce\n')
    out = tmp_path / 'docs' / 'results.md'
    text = lt_results.write_table([wd], out, notes='Shortened schedules.')
    rows = table_rows(text)
    # method -> top-1, Many, Medium, Few, top-5, epochs, device, minutes, published, note
    assert rows['CE'][:6] == ['37.40', '46.70', '0.00', '-', '-', '12 / 0']
    assert rows['CE'][6] == 'CPU' and rows['CE'][8] == '70.4'
    assert rows['CE + cRT'][:6] == ['54.60', '54.10', '56.60', '-', '94.40', '12 / 2']
    assert rows['CE + tau-norm'][0] == '39.30'
    assert 'tau = 1.9, chosen on 1000 val images' in rows['CE + tau-norm'][-1]
    assert rows['DSCL + PBSD + cRT'][:3] == ['45.25', '50.25', '25.25']
    assert rows['DSCL + PBSD + cRT'][5:7] == ['6 / 2', 'NVIDIA H100 80GB HBM3']
    assert 'CE + LWS' not in rows  # not run: no row
    assert '**holds**: SCL 40.00 < DSCL 42.50 < DSCL + PBSD 45.25' in text
    # the logged commands, with paths relative to the repository (run from its root)
    assert 'python3 tools/train.py X --work-dir work_dirs/ce\n' in text
    # the plot of the best model (cRT on CE here) is written beside the document
    assert '(CE + cRT, top-1 54.60)' in text
    assert (out.parent / 'results_cifar10-lt-r100_per_class.png').stat().st_size > 1000
    assert '| CIFAR-10-LT (IR 100) | CE | 70.4 |' in text


def test_rows_of_run_folders_that_are_gone_come_from_the_record(tmp_path):
    """A run folder lives on the machine that trained it; the record file beside the page keeps
    its rows, so a later table (on a new machine) adds rows without losing earlier ones."""
    wd = tmp_path / 'results_cifar10-lt-r100'
    make_results(wd, scl=40.0, dscl=42.5, dscl_pbsd=45.25)
    (wd / 'commands.sh').write_text('python3 tools/train.py X\n')
    out = tmp_path / 'docs' / 'results.md'
    first = lt_results.write_table([wd], out)
    records = tmp_path / 'docs' / 'results_records.json'
    kept = json.loads(records.read_text())['results_cifar10-lt-r100']
    assert set(kept['rows']) == {'ce', 'crt', 'tau-norm', 'scl', 'dscl', 'dscl-pbsd'}
    assert kept['rows']['ce']['metrics']['few'] is None  # NaN (no Few class) as strict JSON
    assert 'come from the record file' not in first

    shutil.rmtree(wd)  # the machine is replaced
    wd.mkdir()
    plot = out.parent / 'results_cifar10-lt-r100_per_class.png'
    plot.unlink()
    again = lt_results.write_table([wd], out)
    assert table_rows(again) == table_rows(first)
    assert '6 of these rows come from the record file (`results_records.json`)' in again
    assert '**holds**: SCL 40.00 < DSCL 42.50 < DSCL + PBSD 45.25' in again
    assert 'python3 tools/train.py X' in again
    assert plot.stat().st_size > 1000  # redrawn from the recorded per-class numbers

    # a new run adds its row and its commands; a re-run folder replaces its recorded row
    fake_run(wd / 'scl-pbsd-stage1', 6, 5)
    fake_run(wd / 'scl-pbsd', 2, 3, dict(top1=44.0, many=49.0, medium=24.0))
    fake_run(wd / 'crt', 2, 2, dict(top1=56.0, many=55.0, medium=57.0))
    (wd / 'commands.sh').write_text('python3 tools/train.py Y\n')
    third = lt_results.write_table([wd], out)
    rows = table_rows(third)
    assert rows['SCL + PBSD + cRT'][:3] == ['44.00', '49.00', '24.00']
    assert rows['CE + cRT'][0] == '56.00' and rows['CE'] == table_rows(first)['CE']
    assert '5 of these rows come from the record file' in third
    assert 'python3 tools/train.py X\npython3 tools/train.py Y' in third
    # the same folder tabled again does not repeat its commands
    assert lt_results.write_table([wd], out).count('python3 tools/train.py Y') == 1

    # a recorded row without per-class numbers keeps the plot that was made of it, and only that
    data = json.loads(records.read_text())
    data['results_cifar10-lt-r100']['rows']['crt']['per_class'] = None
    shutil.rmtree(wd / 'crt')
    records.write_text(json.dumps(data))
    assert '![per-class accuracy]' in lt_results.write_table([wd], out)
    data['results_cifar10-lt-r100']['plot_of'] = 'CE'
    records.write_text(json.dumps(data))
    assert '![per-class accuracy]' not in lt_results.write_table([wd], out)


def test_unfinished_run_is_named_not_tabled(tmp_path):
    wd = tmp_path / 'results_cifar10-lt-r100'
    make_results(wd, scl=40.0, dscl=42.5, dscl_pbsd=45.25)
    fake_run(wd / 'cfrl-image', 30, 40)  # stage 1 of CFRL stopped at epoch 30 of 53
    (wd / 'cfrl-image' / 'cfrl-image_r32.py').write_text(
        "model = dict(type='CFRL')\ntrain_cfg = dict(\n    by_epoch=True, max_epochs=53, "
        "val_interval=1)\nval_cfg = None\n")
    text = lt_results.write_table([wd], tmp_path / 'results.md')
    assert 'CFRL + cRT' not in table_rows(text) and 'CFRL + NCM' not in table_rows(text)
    assert '`cfrl-image` (CFRL + cRT and its other stage-2 rows): stage 1 at epoch 30 of 53' in text
    assert text.count('`cfrl-image`') == 1
    # the patch stage has begun: one line for the chain, each stage's epoch
    for e in range(31, 54):
        (wd / 'cfrl-image' / f'epoch_{e}.pth').write_bytes(b'')
    fake_run(wd / 'cfrl-patch', 5, 40)
    (wd / 'cfrl-patch' / 'cfrl-patch_r32.py').write_text('train_cfg = dict(max_epochs=27)\n')
    text = lt_results.write_table([wd], tmp_path / 'results.md')
    assert ('`cfrl-image` + `cfrl-patch` (CFRL + cRT and its other stage-2 rows): stage 1 at '
            'epoch 53 of 53 + 5 of 27;') in text
    assert text.count('`cfrl-patch`') == 1


def test_ordering_that_does_not_hold_is_reported(tmp_path):
    wd = tmp_path / 'results_cifar10-lt-r100'
    make_results(wd, scl=44.0, dscl=42.5, dscl_pbsd=45.0)
    text = lt_results.write_table([wd], tmp_path / 'r.md')
    assert '**does not hold**: SCL 44.00 vs DSCL 42.50 vs DSCL + PBSD 45.00' in text
    assert 'with NCM: not checked (scl-ncm, dscl-ncm, dscl-pbsd-ncm not run)' in text


def test_unknown_work_dir_name_is_an_error(tmp_path):
    with pytest.raises(ValueError, match='cannot tell the dataset'):
        lt_results.write_table([tmp_path / 'somewhere'], tmp_path / 'r.md')


def test_benchmark_without_runs_shows_its_measured_speed(tmp_path):
    wd = tmp_path / 'results_tiny-imagenet-lt-r100'
    wd.mkdir()
    (wd / 'epoch_time.md').write_text(
        '# epoch time\n\n| config | min/epoch |\n|---|---|\n| ce_r18 | 93.5 |\n')
    text = lt_results.write_table([wd], tmp_path / 'r.md')
    assert '## Tiny-ImageNet-LT (IR 100), ResNet-18 (`results_tiny-imagenet-lt-r100`)' in text
    assert 'No method was run here' in text and '| ce_r18 | 93.5 |' in text
    assert 'Ordering' not in text
    assert '*epoch time*' in text and '# epoch time' not in text


def test_runs_resume_and_pass_amp_and_stage2_options(tmp_path):
    wd = tmp_path / 'results_cifar10-lt-r100'
    lt_results.main(['run', '--dataset', 'cifar10', '--methods', 'dscl', '--epochs-con', '30',
                     '--work-dir', str(wd), '--dry-run', '--amp', 'bf16', '--compile',
                     '--stage2-options', 'optim_wrapper.optimizer.weight_decay=0'])
    lines = [ln for ln in (wd / 'commands.sh').read_text().splitlines()
             if 'tools/train.py' in ln]
    assert len(lines) == 2
    # an interrupted call continues from the last checkpoint, saved every 10 epochs
    assert all('--resume' in ln and '--amp bf16' in ln and '--compile' in ln for ln in lines)
    assert 'default_hooks.checkpoint.interval=10' in lines[0]
    assert 'weight_decay=0' in lines[1] and 'weight_decay' not in lines[0]

    # --checkpoint-every: every stage-1 training (both CFRL stages too) saves that often, a
    # schedule shorter than it saves at its end; the classifier stage keeps its config's
    wd = tmp_path / 'every5'
    lt_results.main(['run', '--dataset', 'cifar10', '--methods', 'dscl', 'cfrl',
                     '--epochs-con', '30', '--epochs-cfrl', '12', '3', '--checkpoint-every', '5',
                     '--work-dir', str(wd), '--dry-run'])
    lines = [ln for ln in (wd / 'commands.sh').read_text().splitlines()
             if 'tools/train.py' in ln]
    interval = [options_dict(ln.split('--cfg-options ')[1].split()).get(
        'default_hooks.checkpoint.interval') for ln in lines]
    assert interval == ['5', None, '5', '3', None]
    with pytest.raises(SystemExit):  # argparse: "--checkpoint-every: must be at least 1, got 0"
        lt_results.main(['run', '--checkpoint-every', '0', '--work-dir', str(wd), '--dry-run'])


def fake_val(run, tops):
    """A finished 10-epoch cRT run whose validations gave ``tops`` (top-1, in order)."""
    fake_run(run, 10, 3)
    (run / '20261123_225850' / 'vis_data').mkdir()
    (run / '20261123_225850' / 'vis_data' / 'scalars.json').write_text(''.join(
        json.dumps({'loss': 1.0, 'step': i}) + '\n' + json.dumps(
            {'accuracy/top1': t, 'step': i}) + '\n' for i, t in enumerate(tops)))


def test_crt_learning_rate_is_chosen_on_validation(tmp_path):
    """--crt-lrs: one cRT run per lr, the best final *validation* top-1 is tested, the choice is
    recorded and shown in the table."""
    wd = tmp_path / 'results_cifar10-lt-r100'
    fake_run(wd / 'dscl-stage1', 6, 5)
    for lr, tops in ((0.02, [50.0, 61.0]), (0.2, [70.0, 55.0])):  # final val decides, not max
        fake_val(wd / f'dscl-lr{lr:g}', tops)
    calls = []
    runner = lt_results.Runner(lt_results.argparse.Namespace(
        command='run', dataset='cifar10', work_dir=wd, python='python3', epochs_cls=10,
        crt_lrs=[0.02, 0.2], threads=None, epochs_con=6, stage1_options=[], checkpoint_every=10,
        stage2_options=[], amp=None, compile=False, gpus=1, dry_run=False))
    runner.call = lambda cmd, env=None: calls.append([str(c) for c in cmd])
    runner.classifier('configs/dscl/dscl-pbsd_r32_crt-1xb512-10e_cifar10-lt-r100.py',
                      wd / 'dscl-stage1' / 'epoch_6.pth', wd / 'dscl')
    assert not any('tools/train.py' in c for cmd in calls for c in cmd)  # both runs finished
    test = [cmd for cmd in calls if 'tools/test.py' in cmd]
    assert len(test) == 1 and str(wd / 'dscl-lr0.02' / 'epoch_10.pth') in test[0]
    choice = json.loads((wd / 'dscl' / 'lr_choice.json').read_text())
    assert choice['lr'] == 0.02 and choice['num_val'] == 1000
    (wd / 'dscl' / 'metrics.json').write_text(json.dumps({'accuracy/top1': 60.0}))
    rows = table_rows(lt_results.write_table([wd], tmp_path / 'r.md'))
    row = rows['DSCL + cRT']
    assert row[5] == '6 / 10'
    assert 'cRT lr 0.02 chosen on 1000 val images (val top-1 0.02: 61.00, 0.2: 55.00)' in row[-1]

    # a widened sweep: the finished result no longer counts as done, only the new lr trains,
    # and the choice is made again over all three
    assert runner.crt_done('dscl')
    runner.args.crt_lrs = [0.02, 0.2, 1.0]
    assert not runner.crt_done('dscl')
    calls.clear()
    runner.call = lambda cmd, env=None: (calls.append([str(c) for c in cmd]), 'tools/train.py' in
                                         cmd and fake_val(wd / 'dscl-lr1', [40.0, 65.0]))
    runner.two_stage('dscl', 'unused-stage1.py', stage1_name='dscl', ncm_config=False)
    trained = [cmd for cmd in calls if 'tools/train.py' in cmd]
    assert len(trained) == 1 and str(wd / 'dscl-lr1') in trained[0]
    assert 'optim_wrapper.optimizer.lr=1.0' in trained[0]
    test = [cmd for cmd in calls if 'tools/test.py' in cmd]
    assert len(test) == 1 and str(wd / 'dscl-lr1' / 'epoch_10.pth') in test[0]
    choice = json.loads((wd / 'dscl' / 'lr_choice.json').read_text())
    assert choice['lr'] == 1.0 and set(choice['val_top1']) == {'0.02', '0.2', '1'}
    assert runner.crt_done('dscl')


def test_fidelity_ab_reuses_the_main_stage1_and_tables_the_arms(tmp_path):
    wd = tmp_path / 'fidelity_cifar10-lt-r100'
    lt_results.main(['ab', '--dataset', 'cifar10', '--epochs-con', '8', '--work-dir', str(wd),
                     '--dry-run', '--arms', 'mmlt', 'bn-recal', 'mmlt-seed1', 'zero-init'])
    lines = [ln for ln in (wd / 'commands.sh').read_text().splitlines()
             if not ln.startswith('#')]
    seed1 = [ln for ln in lines if 'mmlt-seed1-stage1 ' in ln and 'tools/train.py' in ln]
    assert len(seed1) == 1 and 'randomness.seed=1' in seed1[0]
    bn = [ln for ln in lines if 'bn-recal' in ln]
    assert any('fidelity/dscl-pbsd_r32_crt_cifar10-lt-r100_bn-recal.py' in ln for ln in bn)
    assert any('fidelity/ncm_resnet32_cifar10-lt-r100_bn-recal.py' in ln for ln in bn)
    assert all(f'{wd}/mmlt-stage1/epoch_8.pth' in ln for ln in bn if 'model.backbone' in ln)
    assert any('fidelity/dscl-pbsd_r32_cifar10-lt-r100_zero-init.py' in ln for ln in lines)
    for arm in lt_results.FIDELITY['cifar10'].values():
        for key in ('stage1', 'crt', 'ncm'):
            if isinstance(arm.get(key), str):
                assert (ROOT / arm[key]).exists(), arm[key]

    for arm, crt, ncm in (('mmlt', 60.0, 55.0), ('mmlt-seed1', 59.0, 55.5),
                          ('zero-init', 62.0, 55.2), ('bn-recal', 59.5, 58.0)):
        # 10 classes x 100,000 test images: the sampling error is negligible next to the seeds
        fake_run(wd / arm, 10, 2, dict(top1=crt), per_class=100000)
        fake_run(wd / f'{arm}-ncm', 0, 1, dict(top1=ncm), per_class=100000)
    fake_run(wd / 'mmlt-stage1', 8, 20)
    rows = table_rows(lt_results.write_table([wd], tmp_path / 'r.md'))
    assert rows['zero-init'][1:6] == ['62.00', '+2.00', '55.20', '+0.20',
                                      'cRT: better; NCM: within noise']
    assert rows['bn-recal'][5] == 'cRT: within noise; NCM: better'
    assert 'noise (range of the main config over its seeds): cRT 1.00, NCM 0.50.' in (
        tmp_path / 'r.md').read_text()
    # a third seed widens the range
    fake_run(wd / 'mmlt-seed2', 10, 2, dict(top1=61.5))
    fake_run(wd / 'mmlt-seed2-ncm', 0, 1, dict(top1=55.0))
    rows = table_rows(lt_results.write_table([wd], tmp_path / 'r.md'))
    assert rows['zero-init'][5] == 'cRT: within noise; NCM: within noise'
    assert 'cRT 2.50, NCM 0.50.' in (tmp_path / 'r.md').read_text()
    # the folders are gone: the arms, their verdicts and the noise come from r_records.json
    shutil.rmtree(wd)
    text = lt_results.write_table([wd], tmp_path / 'r.md')
    assert table_rows(text) == rows
    assert 'cRT 2.50, NCM 0.50.' in text and 'stage 1 ran 8 epochs, cRT 10 epochs' in text
    assert '5 of these arms come from the record file (`r_records.json`)' in text


def test_fidelity_verdict_counts_the_sampling_error_of_the_test_set(tmp_path):
    """Two seeds that happen to agree do not make a small difference significant: on 1,000 test
    images a 2-point difference at 60 % is within the 95 % sampling error (4.27 points)."""
    wd = tmp_path / 'fidelity_cifar10-lt-r100'
    for arm, crt, ncm in (('mmlt', 60.0, 55.0), ('mmlt-seed1', 60.1, 55.1),
                          ('zero-init', 62.0, 45.0)):
        fake_run(wd / arm, 10, 2, dict(top1=crt), per_class=100)
        fake_run(wd / f'{arm}-ncm', 0, 1, dict(top1=ncm), per_class=100)
    fake_run(wd / 'mmlt-stage1', 8, 20)
    text = lt_results.write_table([wd], tmp_path / 'r.md')
    assert table_rows(text)['zero-init'][5] == 'cRT: within noise; NCM: worse'
    assert lt_results.sampling_error(60.0, 1000, 62.0, 1000) == pytest.approx(4.27, abs=0.01)
    assert 'Sampling error alone (95 %, 1000 test images' in text
    # at the mmlt accuracies 60.0 (cRT) and 55.0 (NCM): 1.96 sqrt(2 p (1 - p) / 1000)
    assert 'accuracy): cRT 4.29, NCM 4.36 points.' in text


def test_fidelity_work_dir_without_runs_or_record(tmp_path):
    """A fidelity folder that holds nothing yet, on a page without a record file: the section
    says no arm was run (the page is still written)."""
    wd = tmp_path / 'fidelity_cifar10-lt-r100'
    wd.mkdir()
    text = lt_results.write_table([wd], tmp_path / 'r.md')
    assert 'No arm was run here (`fidelity_cifar10-lt-r100` holds no test results).' in text


def test_logged_commands_name_paths_relative_to_the_repository():
    root = str(lt_results.ROOT)
    line = f'python3 tools/train.py x.py --work-dir {root}/work_dirs/a --cfg-options c={root}/b.pth'
    assert lt_results.repo_relative(line) == (
        'python3 tools/train.py x.py --work-dir work_dirs/a --cfg-options c=b.pth')
    assert lt_results.repo_relative('/elsewhere/x') == '/elsewhere/x'
