"""mmlt's model zoo in MMPretrain's model hub: ``model-index.yml``, ``configs/*/metafile.yml`` and
:mod:`mmlt.apis.model_zoo` (``import mmlt`` registers the index with ``mmpretrain.ModelHub``)."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from mmengine.config import Config

import mmlt  # noqa: F401  (registers the index)
from mmlt.apis import find_model_index, model_names, register_model_zoo
from mmpretrain import ImageClassificationInferencer, get_model, list_models

REPO = Path(__file__).resolve().parents[1]
INDEX = REPO / 'model-index.yml'
FAMILIES = ('decoupled', 'dscl', 'cfrl')
CIFAR10_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
                   'ship', 'truck')

CE = 'ce_resnet32_1xb128-200e_cifar10-lt-r100'
CRT = 'crt_resnet32_1xb512-10e_cifar10-lt-r100'
LWS = 'lws_resnet32_1xb512-10e_cifar10-lt-r100'
TAU = 'tau-norm_resnet32_cifar10-lt-r100'
NCM = 'ncm_resnet32_cifar10-lt-r100'
DSCL_CRT = 'dscl-pbsd_r32_crt-1xb512-10e_cifar10-lt-r100'
CFRL_LINEAR = 'cfrl_r32_linear-1xb512-10e_cifar10-lt-r100'
DSCL_STAGE1 = 'dscl-pbsd_r50_2xb128-coslr-200e_imagenet-lt'
SCL_STAGE1 = 'scl_r50_2xb128-coslr-200e_imagenet-lt'
CFRL_STAGE1 = 'cfrl-patch_r50_2xb128-coslr-100e_imagenet-lt'

MODEL_KEYS = {'Name', 'In Collection', 'Metadata', 'Results', 'Config', 'Weights'}


def _load_generator():
    spec = importlib.util.spec_from_file_location('gen_metafiles',
                                                  REPO / 'tools' / 'misc' / 'gen_metafiles.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _metafiles():
    return [REPO / rel for rel in yaml.safe_load(INDEX.read_text())['Import']]


def _models():
    """(metafile path, its collections, model entry) of every model of the index."""
    out = []
    for path in _metafiles():
        meta = yaml.safe_load(path.read_text())
        out += [(path, meta['Collections'], m) for m in meta['Models']]
    return out


MODELS = {m['Name']: m for _, _, m in _models()}


def _small_stage1(entry) -> bool:
    """CIFAR-10-LT / Tiny-ImageNet-LT stage-1 (self-supervised) configs."""
    return '(IR' in entry['Metadata']['Training Data'] and \
        not {'DSCL', 'CFRL'}.isdisjoint(entry['Metadata']['Architecture'])


# ---- the index files ---------------------------------------------------------------------------

def test_model_index_imports_every_family():
    imports = yaml.safe_load(INDEX.read_text())['Import']
    assert imports == [f'configs/{f}/metafile.yml' for f in FAMILIES]
    assert all(p.is_file() for p in _metafiles())


def test_every_config_is_a_model_and_every_config_path_exists():
    configs = {m['Config'] for m in MODELS.values()}
    for config in configs:
        assert (REPO / config).is_file(), config
    expected = {p.relative_to(REPO).as_posix() for f in FAMILIES
                for p in (REPO / 'configs' / f).glob('*.py') if not p.stem.endswith('_per-image')}
    assert configs == expected  # fidelity/ A/B arms and *_per-image.py are not models
    assert not any('/fidelity/' in c or c.endswith('_per-image.py') for c in configs)


def test_metafiles_have_mmpretrain_format():
    names = []
    for path in _metafiles():
        meta = yaml.safe_load(path.read_text())
        assert set(meta) == {'Collections', 'Models'}, path
        collections = {c['Name'] for c in meta['Collections']}
        for c in meta['Collections']:
            assert {'Name', 'Metadata', 'Paper', 'README'} <= set(c), (path, c)
            assert {'Training Data', 'Architecture'} <= set(c['Metadata'])
            assert set(c['Paper']) == {'Title', 'URL'} and c['Paper']['URL'].startswith('https://')
            assert (REPO / c['README']).is_file()
        for m in meta['Models']:
            assert {'Name', 'In Collection', 'Config'} <= set(m) <= MODEL_KEYS, (path, m)
            assert m['In Collection'] in collections
            assert 'Training Data' in m['Metadata']
            assert 'Weights' not in m  # no released weights: get_model(name, pretrained=PATH)
            names.append(m['Name'])
    assert len(names) == len(set(names))
    for name in names:
        assert name == name.lower() and 'lt' in name, name


def test_results_only_dataset_task_metrics():
    for name, m in MODELS.items():
        for result in m.get('Results') or []:
            assert set(result) == {'Dataset', 'Task', 'Metrics'}, name
            assert result['Task'] == 'Image Classification'
            assert result['Metrics'] and all(isinstance(v, float)
                                             for v in result['Metrics'].values())
            # a measured number says on what it was measured
            assert {'Epochs', 'Training Resources'} <= set(m['Metadata'])


def test_results_come_from_complete_schedules_in_results_md():
    """The committed Results are exactly the complete-schedule rows of docs/results.md."""
    gen = _load_generator()
    by_stem = {Path(m['Config']).stem: m for m in MODELS.values()}

    def epochs_of(stem):
        return by_stem[stem]['Metadata'].get('Epochs', 0)

    expected = gen.complete_results((REPO / 'docs' / 'results.md').read_text(), epochs_of)
    for stem, m in by_stem.items():
        if stem in expected:
            dataset, metrics, device = expected[stem]
            assert m['Results'] == [dict(Dataset=dataset, Task='Image Classification',
                                         Metrics=metrics)]
            assert m['Metadata']['Training Resources'] == device
        else:
            assert 'Results' not in m, stem


def test_generator_takes_complete_schedules_only():
    gen = _load_generator()
    epochs = {CE: 200, CRT: 10, 'dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100': 200,
              DSCL_CRT: 10}
    head = ('| method | top-1 | Many | Medium | Few | top-5 | epochs (stage 1 / 2) | device '
            '| wall min (all stages) | published top-1 | note |\n' + '|---' * 11 + '|\n')
    page = (
        '# Measured results\n\n'
        '## CIFAR-10-LT (IR 100), ResNet-32 (`results_cifar10-lt-r100`)\n\n' + head +
        '| CE | 70.10 | 80.00 | 50.00 | - | 98.00 | 200 / 0 | NVIDIA H200 | 60 | 70.4 |  |\n'
        '| CE + cRT | 54.59 | 54.09 | 56.60 | - | 94.39 | 12 / 2 | CPU | 14 | - |  |\n'
        '| DSCL + cRT | 60.00 | 60.00 | 60.00 | - | 95.00 | 200 / 10 | CPU | 14 | - |  |\n\n'
        '## CIFAR-10-LT (IR 100), ResNet-32 (`results_cifar10-lt-r100_short`)\n\n' + head +
        '| DSCL + PBSD + cRT | 80.00 | 80.00 | 80.00 | - | 99.00 | 200 / 10 | CPU | 9 | - | |\n\n'
        '```bash\npython tools/benchmark/lt_results.py run --stage1-options model.momentum=0.01\n'
        '```\n')
    found = gen.complete_results(page, lambda stem: epochs[stem])
    # CE: complete (200 / 0); cRT: 12 / 2 is a short run; DSCL + cRT has no config of its own;
    # DSCL + PBSD + cRT ran with --stage1-options (not the config's recipe)
    assert set(found) == {CE}
    dataset, metrics, device = found[CE]
    assert dataset == 'CIFAR-10-LT (IR 100)' and device == 'NVIDIA H200'
    assert metrics == {'Top 1 Accuracy': 70.1, 'Top 5 Accuracy': 98.0,
                       'Many-shot Top 1 Accuracy': 80.0, 'Medium-shot Top 1 Accuracy': 50.0}
    assert gen.model_name('ce_resnet50_4xb128-90e_inat18') == 'ce_resnet50_4xb128-90e_inat18-lt'
    assert gen.model_name(CE) == CE


# ---- registration ------------------------------------------------------------------------------

def test_list_models_has_mmlt_and_mmpretrain_models():
    names = model_names(INDEX)
    assert set(names) == set(MODELS)
    assert set(names) <= set(list_models('*lt*'))
    everything = list_models()
    assert 'resnet50_8xb32_in1k' in everything  # MMPretrain's own index is still there
    assert len(everything) > len(names)


def test_registration_is_idempotent():
    before = list_models()
    assert sorted(register_model_zoo()) == sorted(MODELS)
    assert sorted(register_model_zoo(INDEX, REPO)) == sorted(MODELS)
    assert list_models() == before


def test_conflicting_index_warns_and_registers_nothing(tmp_path):
    meta = yaml.safe_load((REPO / 'configs' / 'decoupled' / 'metafile.yml').read_text())
    meta['Models'] = [dict(MODELS[CE], Config=str(REPO / MODELS[CE]['Config'])),
                      dict(MODELS[CE], Name='zoo-conflict-test-lt', Config=MODELS[CE]['Config'])]
    (tmp_path / 'metafile.yml').write_text(yaml.safe_dump(meta))
    (tmp_path / 'model-index.yml').write_text(yaml.safe_dump({'Import': ['metafile.yml']}))
    with pytest.warns(UserWarning, match='registered already'):
        assert register_model_zoo(tmp_path / 'model-index.yml', REPO) == []
    assert 'zoo-conflict-test-lt' not in list_models('zoo')


def test_find_model_index_layouts(tmp_path):
    # installed wheel: <site-packages>/mmlt/.mim/{model-index.yml,configs}
    site = tmp_path / 'site-packages'
    (site / 'mmlt').mkdir(parents=True)
    assert find_model_index(site / 'mmlt') is None
    (site / 'mmlt' / '.mim').mkdir()
    (site / 'mmlt' / '.mim' / 'model-index.yml').write_text('Import: []\n')
    assert find_model_index(site / 'mmlt') == (site / 'mmlt' / '.mim' / 'model-index.yml',
                                               site / 'mmlt' / '.mim')
    # a model-index.yml loose in site-packages is not mmlt's
    (site / 'model-index.yml').write_text('Import: []\n')
    assert find_model_index(site / 'mmlt')[1] == site / 'mmlt' / '.mim'
    # checkout / editable install: <repo>/model-index.yml beside the package, next to setup.py;
    # it wins over a mmlt/.mim there (links to it, or copies from a wheel build, maybe older)
    repo = tmp_path / 'repo'
    (repo / 'mmlt' / '.mim').mkdir(parents=True)
    (repo / 'mmlt' / '.mim' / 'model-index.yml').write_text('Import: []\n')
    (repo / 'model-index.yml').write_text('Import: []\n')
    (repo / 'setup.py').write_text('')
    assert find_model_index(repo / 'mmlt') == (repo / 'model-index.yml', repo)
    # this checkout
    assert find_model_index() == (INDEX, REPO)


_ORDER_SCRIPT = r'''
import json, re, shutil, sys, warnings
from pathlib import Path
order, repo, tmp = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
sys.path.insert(0, str(repo))
out = {}
if order == 'mmpretrain-first':
    import mmpretrain
    out['before'] = len(mmpretrain.list_models())  # MMPretrain's index initialised first
    import mmlt
else:
    import mmlt  # registers before MMPretrain's own index is loaded (lazily)
    import mmpretrain
from mmpretrain import get_model, list_models
out['lt'] = list_models('*lt*')
out['all'] = len(list_models())
out['resnet50'] = 'resnet50_8xb32_in1k' in list_models()
# the installed-wheel layout: <package>/.mim/{model-index.yml, configs/}, one model renamed
pkg = tmp / 'site-packages' / 'mmlt'
mim = pkg / '.mim'
shutil.copytree(repo / 'configs', mim / 'configs')
meta = (mim / 'configs' / 'decoupled' / 'metafile.yml').read_text()
(mim / 'configs' / 'decoupled' / 'metafile.yml').write_text(
    meta.replace('Name: crt_resnet32', 'Name: wheel-layout_crt_resnet32'))
(mim / 'model-index.yml').write_text('Import:\n  - configs/decoupled/metafile.yml\n')
from mmlt.apis import find_model_index, register_model_zoo
index, prefix = find_model_index(pkg)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    register_model_zoo(index, prefix)  # every other name is taken: a warning, nothing registered
out['conflict_warned'] = any('registered already' in str(w.message) for w in caught)
meta = re.sub(r'Name: (?=[a-z])', 'Name: wheel-layout_', meta)  # models, not the collection
(mim / 'configs' / 'decoupled' / 'metafile.yml').write_text(meta)
register_model_zoo(index, prefix)
model = get_model('wheel-layout_crt_resnet32_1xb512-10e_cifar10-lt-r100')
out['wheel_type'] = type(model).__name__
out['wheel_config'] = model._config.filename
print('RESULT' + json.dumps(out))
'''


@pytest.mark.parametrize('order', ['mmlt-first', 'mmpretrain-first'])
def test_registration_order_and_wheel_layout(order, tmp_path):
    """In a fresh interpreter: mmlt's index registered before or after MMPretrain initialises
    its own, both lists complete; the ``.mim`` layout of a wheel builds from its own configs."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable, '-c', _ORDER_SCRIPT, order, str(REPO), str(tmp_path)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.split('RESULT', 1)[1])
    assert set(MODELS) <= set(out['lt'])
    assert out['resnet50']
    if 'before' in out:
        assert out['all'] == out['before'] + len(MODELS)
    assert out['conflict_warned']
    assert out['wheel_type'] == 'DecoupledClassifier'
    assert tmp_path / 'site-packages' / 'mmlt' / '.mim' in Path(out['wheel_config']).parents


# ---- get_model / inferencer --------------------------------------------------------------------

def _types():
    from mmpretrain.models import ImageClassifier, LinearClsHead

    from mmlt.models.classifiers import DecoupledClassifier
    from mmlt.models.heads import LWSHead, NCMHead, TauNormHead
    from mmlt.models.selfsup import CFRL, DSCL
    return dict(ImageClassifier=ImageClassifier, LinearClsHead=LinearClsHead,
                DecoupledClassifier=DecoupledClassifier, LWSHead=LWSHead, NCMHead=NCMHead,
                TauNormHead=TauNormHead, CFRL=CFRL, DSCL=DSCL)


@pytest.mark.parametrize('name, model_type, head_type', [
    (CE, 'ImageClassifier', 'LinearClsHead'),
    (CRT, 'DecoupledClassifier', 'LinearClsHead'),
    (LWS, 'DecoupledClassifier', 'LWSHead'),
    (TAU, 'ImageClassifier', 'TauNormHead'),
    (NCM, 'ImageClassifier', 'NCMHead'),
    (DSCL_CRT, 'DecoupledClassifier', 'LinearClsHead'),
    (CFRL_LINEAR, 'DecoupledClassifier', 'LinearClsHead'),
    ('ce_resnet50_4xb128-90e_imagenet-lt', 'ImageClassifier', 'LinearClsHead'),
    ('dscl_r50_linear-40e_inat18-lt', 'DecoupledClassifier', 'LinearClsHead'),
    (DSCL_STAGE1, 'DSCL', None),
    (SCL_STAGE1, 'DSCL', None),
    (CFRL_STAGE1, 'CFRL', None),
])
def test_get_model_builds_the_config(name, model_type, head_type):
    types = _types()
    model = get_model(name, pretrained=False)
    assert isinstance(model, types[model_type])
    if head_type:
        assert isinstance(model.head, types[head_type])
    assert model._metainfo.name == name
    assert Path(model._config.filename).resolve() == (REPO / MODELS[name]['Config']).resolve()
    assert not model.training


@pytest.mark.parametrize('name', sorted(
    n for n, m in MODELS.items() if '(IR' in m['Metadata']['Training Data']))
def test_get_model_builds_every_small_model(name):
    """Every CIFAR-10-LT / Tiny-ImageNet-LT model (the large ones are sampled above); the
    stage-1 configs have no test_dataloader key (mmpretrain's get_model reads its dataset type
    whenever the key exists, also when it is None)."""
    config = Config.fromfile(str(REPO / MODELS[name]['Config']))
    if _small_stage1(MODELS[name]):
        assert 'test_dataloader' not in config
    model = get_model(name)
    assert type(model).__name__ in MODELS[name]['Metadata']['Architecture']


def _checkpoint(model, path):
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': {'classes': CIFAR10_CLASSES}}}, path)
    return str(path)


def test_get_model_loads_pretrained(tmp_path):
    source = get_model(CRT)
    torch.manual_seed(0)
    with torch.no_grad():
        source.head.fc.weight.normal_()
        source.backbone.conv1.weight.normal_()
    ckpt = _checkpoint(source, tmp_path / 'crt.pth')
    fresh = get_model(CRT)
    assert not torch.equal(fresh.head.fc.weight, source.head.fc.weight)
    loaded = get_model(CRT, pretrained=ckpt)
    assert torch.equal(loaded.head.fc.weight, source.head.fc.weight)
    assert torch.equal(loaded.backbone.conv1.weight, source.backbone.conv1.weight)


def test_get_model_loads_dscl_stage1(tmp_path):
    source = get_model(DSCL_STAGE1)
    with torch.no_grad():
        source.backbone.conv1.weight.normal_()
    ckpt = str(tmp_path / 'dscl.pth')
    torch.save({'state_dict': source.state_dict()}, ckpt)
    loaded = get_model(DSCL_STAGE1, pretrained=ckpt)
    assert torch.equal(loaded.backbone.conv1.weight, source.backbone.conv1.weight)


@pytest.mark.parametrize('name', [CE, CRT, LWS, TAU, NCM, DSCL_CRT, CFRL_LINEAR])
def test_inferencer_predicts_a_real_image(name, tmp_path, cifar10_jpeg_root):
    image = cifar10_jpeg_root / 'test' / 'airplane' / '0000.jpg'
    assert image.is_file()
    model = get_model(name)
    if name == NCM:  # class means come from ClassMeanHook in a test run; any non-zero will do
        torch.manual_seed(0)
        model.head.update_means(torch.zeros(64), torch.randn(10, 64))
    ckpt = _checkpoint(model, tmp_path / 'model.pth')
    inferencer = ImageClassificationInferencer(name, pretrained=ckpt, device='cpu')
    result = inferencer(str(image))[0]
    assert 0 <= result['pred_label'] < 10
    assert result['pred_class'] == CIFAR10_CLASSES[result['pred_label']]
    assert result['pred_scores'].shape == (10, )


def test_unknown_name_gives_mmpretrain_error():
    with pytest.raises(ValueError, match='Failed to find model "no-such-model_cifar10-lt"'):
        get_model('no-such-model_cifar10-lt')
    with pytest.raises(ValueError, match='no-such-model_cifar10-lt'):
        ImageClassificationInferencer('no-such-model_cifar10-lt', pretrained=False)
