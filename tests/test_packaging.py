"""Packaging: the wheel ships configs and tools in mmlt/.mim (what OpenMMLab's `mim train / test /
run mmlt ...` look up in an installed package), an editable build symlinks them instead, and the
package carries its LICENSE.

Everything is built in a copy of the working tree (its tracked files plus new, not ignored ones),
so the checkout gets no build/, *.egg-info or mmlt/.mim from these tests.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIG = 'dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py'
REQUIRED = [
    f'mmlt/.mim/configs/{CONFIG}',
    'mmlt/.mim/configs/_base_/default_runtime.py',
    'mmlt/.mim/tools/train.py',
    'mmlt/.mim/tools/test.py',
    'mmlt/.mim/tools/dist_train.sh',
]
try:
    import mim  # noqa: F401
    HAVE_MIM = True
except Exception:  # not installed, or installed without its dependencies
    HAVE_MIM = False


def _run(cmd, cwd, timeout=300, env=None):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, f'{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc


def source_copy(dst: Path) -> Path:
    """Copy the working tree's tracked and new (not ignored) files to ``dst``."""
    try:
        out = subprocess.run(
            ['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=REPO,
            capture_output=True, check=True, timeout=60).stdout
        files = [f for f in out.decode().split('\0') if f]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (e.g. an sdist)
        shutil.copytree(REPO, dst, symlinks=True, ignore=shutil.ignore_patterns(
            '.git', 'data', 'work_dirs', 'build', 'dist', '*.egg-info', '__pycache__', '.mim',
            '.pytest_cache', '*.pyc'))
        return dst
    for name in files:
        src = REPO / name
        if not src.is_file():  # deleted in the working tree, or a submodule
            continue
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst / name)
    return dst


def load_setup(root: Path):
    """setup.py as a module (its setup() call only runs as a script)."""
    spec = importlib.util.spec_from_file_location('mmlt_setup', root / 'setup.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_wheel(src: Path, out: Path) -> Path:
    _run([sys.executable, '-m', 'pip', 'wheel', str(src), '--no-deps', '--no-build-isolation',
          '--no-index', '--disable-pip-version-check', '-q', '-w', str(out)], cwd=src.parent)
    wheels = sorted(out.glob('mmlt-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """(source copy, wheel) built once for the module."""
    tmp = tmp_path_factory.mktemp('packaging')
    before = {p: os.path.lexists(REPO / p) for p in ('build', 'dist', 'mmlt.egg-info')}
    src = source_copy(tmp / 'src')
    wheel = build_wheel(src, tmp / 'wheel')
    after = {p: os.path.lexists(REPO / p) for p in before}
    assert after == before, 'the build touched the checkout'
    return src, wheel


def test_wheel_ships_configs_and_tools(built):
    src, wheel = built
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = [n for n in REQUIRED if n not in names]
    assert not missing, f'{wheel.name} lacks {missing}'
    # every config (and metafile) and every tool script of the source, nothing compiled
    shipped = {f'mmlt/.mim/{p.relative_to(src).as_posix()}'
               for top, patterns in (('configs', ('*.py', '*.yml')), ('tools', ('*.py', '*.sh')))
               for pattern in patterns for p in (src / top).rglob(pattern)}
    assert shipped - names == set()
    assert not [n for n in names if '__pycache__' in n or n.endswith('.pyc')]
    # model-index.yml (mim's model list) travels when the checkout has one
    assert ('mmlt/.mim/model-index.yml' in names) == (src / 'model-index.yml').is_file()
    assert not [n for n in names if n.startswith(('configs/', 'tools/', 'tests/'))]
    # the licence travels in the metadata
    licence = [n for n in names if '.dist-info/' in n and n.rsplit('/', 1)[1] == 'LICENSE']
    assert licence, sorted(n for n in names if '.dist-info/' in n)


def test_license_matches_setup():
    text = (REPO / 'LICENSE').read_text()
    assert text.splitlines()[0] == 'Copyright (c) mmlt contributors'
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text
    assert "license='Apache License 2.0'" in (REPO / 'setup.py').read_text()


# The look-up of openmim 0.3.9 (mim/commands/train.py, test.py, run.py): the package root is
# get_installed_path(package); a config that is not a path is searched by its file name under it,
# following links; the scripts are <root>/.mim/tools/{train,test}.py and, for `mim run`,
# <root>/.mim/tools/**/<command>.py.
LOOKUP = r'''
import importlib.util, json, os, os.path as osp, sys
site, config_name, use_mim = sys.argv[1], sys.argv[2], sys.argv[3] == '1'
if use_mim:
    from mim.utils import get_installed_path, recursively_find
    root = get_installed_path('mmlt')
else:
    def recursively_find(root, base_name, followlinks=False):
        return [osp.join(r, base_name) for r, _, files in os.walk(root, followlinks=followlinks)
                if base_name in files]
    root = osp.dirname(importlib.util.find_spec('mmlt').origin)
configs = recursively_find(root, osp.basename(config_name), followlinks=True)
result = dict(root=root, configs=configs,
              train=osp.isfile(osp.join(root, '.mim', 'tools', 'train.py')),
              test=osp.isfile(osp.join(root, '.mim', 'tools', 'test.py')),
              run=recursively_find(osp.join(root, '.mim', 'tools'), 'verify_dataset.py'))
if not use_mim:
    # the config loads from the installed package: relative _base_ files, mmpretrain:: bases and
    # custom_imports=['mmlt'] (imported from the same place)
    from mmengine.config import Config
    cfg = Config.fromfile(configs[0])
    result.update(imports=cfg.custom_imports['imports'], model=cfg.model['type'],
                  base_runtime='default_scope' in cfg, mmlt=sys.modules['mmlt'].__file__)
print(json.dumps(result))
'''


def _lookup(built, tmp_path, use_mim):
    _, wheel = built
    site = tmp_path / 'site'
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    env = dict(os.environ, PYTHONPATH=str(site))
    proc = _run([sys.executable, '-W', 'ignore', '-c', LOOKUP, str(site), CONFIG,
                 '1' if use_mim else '0'], cwd=tmp_path, env=env)
    return site, json.loads(proc.stdout.strip().splitlines()[-1])


def test_installed_wheel_layout_resolves_configs_and_tools(built, tmp_path):
    """An unpacked wheel on the path, looked up the way mim 0.3.9 does (emulated: no mim needed)."""
    site, found = _lookup(built, tmp_path, use_mim=False)
    pkg = site / 'mmlt'
    assert found['root'] == str(pkg)
    assert found['configs'] == [str(pkg / '.mim' / 'configs' / CONFIG)]
    assert found['train'] and found['test']
    assert found['run'] == [str(pkg / '.mim' / 'tools' / 'verify_dataset.py')]
    assert found['imports'] == ['mmlt'] and found['model'] == 'DSCL' and found['base_runtime']
    assert found['mmlt'] == str(pkg / '__init__.py')


@pytest.mark.skipif(not HAVE_MIM, reason=(
    'openmim does not import here. It is left uninstalled on purpose: openmim 0.3.9 requires '
    'opendatalab -> openxlab, which pins setuptools 60.2, requests 2.28 and urllib3 1.26 and would '
    'downgrade this environment. The same look-up is emulated by '
    'test_installed_wheel_layout_resolves_configs_and_tools.'))
def test_mim_finds_config_in_installed_wheel(built, tmp_path):
    site, found = _lookup(built, tmp_path, use_mim=True)
    pkg = site / 'mmlt'
    assert found['root'] == str(pkg)
    assert found['configs'] == [str(pkg / '.mim' / 'configs' / CONFIG)]
    assert found['train'] and found['test'] and found['run']


def test_mim_mode_follows_the_setup_command():
    setup = load_setup(REPO)
    assert setup.mim_mode(['setup.py', 'editable_wheel', '--dist-dir', 'x']) == 'symlink'
    assert setup.mim_mode(['setup.py', 'develop']) == 'symlink'
    assert setup.mim_mode(['setup.py', 'bdist_wheel', '--dist-dir', 'x']) == 'copy'
    assert setup.mim_mode(['setup.py', 'sdist']) == 'copy'
    assert setup.mim_mode(['setup.py', 'egg_info']) is None
    assert setup.MIM_FILES == ('configs', 'tools', 'model-index.yml')


def test_editable_build_symlinks_mim_files(built, tmp_path):
    """`pip install -e .` (setuptools' PEP 660 build_editable) links mmlt/.mim/* to the checkout's
    folders, replacing the copies a wheel build left; a later wheel build keeps the links; the
    links are git-ignored."""
    src, _ = built
    assert (src / 'mmlt' / '.mim' / 'configs').is_dir()  # the copies of the wheel build
    assert not (src / 'mmlt' / '.mim' / 'configs').is_symlink()
    code = ('import sys; from setuptools import build_meta; '
            'print(build_meta.build_editable(sys.argv[1]))')
    _run([sys.executable, '-W', 'ignore', '-c', code, str(tmp_path / 'editable')], cwd=src)
    for name in ('configs', 'tools'):
        link = src / 'mmlt' / '.mim' / name
        assert link.is_symlink() and os.readlink(link) == os.path.join('..', '..', name)
        assert link.resolve() == (src / name).resolve()
    assert (src / 'mmlt' / '.mim' / 'configs' / CONFIG).is_file()
    if (src / 'model-index.yml').is_file():
        assert (src / 'mmlt' / '.mim' / 'model-index.yml').is_symlink()
    # a wheel built next to the editable install reads through the links and leaves them in place
    wheel = build_wheel(src, tmp_path / 'wheel')
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert [n for n in REQUIRED if n not in names] == []
    assert (src / 'mmlt' / '.mim' / 'configs').is_symlink()
    if (REPO / '.git').exists():
        for name in ('configs', 'tools', 'model-index.yml'):
            ignored = subprocess.run(['git', 'check-ignore', '-q', '--no-index',
                                      f'mmlt/.mim/{name}'], cwd=REPO, timeout=60)
            assert ignored.returncode == 0, f'mmlt/.mim/{name} is not git-ignored'


def test_sdist_carries_mim_files_and_builds_a_complete_wheel(built, tmp_path):
    """An sdist (what PyPI would serve) holds the mmlt/.mim copies, and the wheel built from it,
    where no top-level configs/ or tools/ exist, still ships them."""
    src, _ = built
    copy = source_copy(tmp_path / 'src')
    code = ('import sys; from setuptools import build_meta; '
            'print(build_meta.build_sdist(sys.argv[1]))')
    proc = _run([sys.executable, '-W', 'ignore', '-c', code, str(tmp_path / 'sdist')], cwd=copy)
    sdist = tmp_path / 'sdist' / proc.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        top = names[0].split('/')[0]
        tar.extractall(tmp_path / 'unpacked', filter='data')
    for required in REQUIRED + ['LICENSE', 'README.md', 'requirements.txt']:
        assert f'{top}/{required}' in names, required
    unpacked = tmp_path / 'unpacked' / top
    assert not (unpacked / 'configs').exists()
    wheel = build_wheel(unpacked, tmp_path / 'wheel')
    with zipfile.ZipFile(wheel) as zf:
        wheel_names = set(zf.namelist())
    assert [n for n in REQUIRED if n not in wheel_names] == []
