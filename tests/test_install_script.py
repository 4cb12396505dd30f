"""tools/install.sh decisions, tested with fakes (no GPU, no install, no build).

The script runs for real in its dry-run mode (``MMLT_INSTALL_DRY_RUN=1``) with this test's Python, whose
``PYTHONPATH`` puts fake ``torch`` / ``torchvision`` / ``mmcv`` packages (or ones that fail to import,
i.e. "not installed") in front of the real ones, and a fake ``pip`` that records any call; ``PATH``
holds a fake ``nvcc`` or none. So the script's own probes and decisions are what is tested: torch kept
or installed, CUDA or CPU-only mmcv ops, the wheel cache folder and whether a cached wheel is reused.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / 'tools' / 'install.sh'
CPU_TAG = 'torch2.14.1-cp311' if sys.version_info[:2] == (3, 11) else None
PYTAG = f'cp{sys.version_info.major}{sys.version_info.minor}'
WHEEL = f'mmcv-2.1.0-{PYTAG}-{PYTAG}-linux_x86_64.whl'


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    path.chmod(mode)


def _missing(site: Path, name: str) -> None:
    _write(site / name / '__init__.py', f"raise ImportError('{name} is not installed (test fake)')\n")


class Machine:
    """A fake machine in ``tmp_path``: what torch / torchvision / mmcv / nvcc it has."""

    def __init__(self, tmp_path: Path, torch='2.14.1+cu130', cuda='13.0', gpu=False,
                 torchvision='0.29.1+cu130', mmcv=None, nvcc=None, pip_ok=False):
        self.root = tmp_path
        self.site = tmp_path / 'site'
        self.bin = tmp_path / 'bin'
        self.cuda_home = tmp_path / 'cuda-fake'
        self.cache = tmp_path / 'wheels'
        self.pip_log = tmp_path / 'pip.log'
        self.bin.mkdir(parents=True)
        self.cache.mkdir()
        (tmp_path / 'home').mkdir()
        if torch is None:
            _missing(self.site, 'torch')
        else:
            _write(self.site / 'torch' / '__init__.py', f"""\
                __version__ = {torch!r}


                class version:
                    cuda = {cuda!r}


                class cuda:
                    @staticmethod
                    def is_available():
                        return {gpu!r}
                """)
        if torchvision is None:
            _missing(self.site, 'torchvision')
        else:
            _write(self.site / 'torchvision' / '__init__.py', f'__version__ = {torchvision!r}\n')
        if mmcv is None:
            _missing(self.site, 'mmcv')
        else:  # mmcv: the CUDA release its ops were compiled with, 'not available' for CPU-only ops
            _write(self.site / 'mmcv' / '__init__.py', "__version__ = '2.1.0'\n")
            _write(self.site / 'mmcv' / 'ops' / '__init__.py', f"""\
                class RoIAlign:
                    pass


                def get_compiling_cuda_version():
                    return {mmcv!r}
                """)
        # A fake pip that records its calls (with the -r / -c files it was given) and fails, for a
        # dry run, which must never reach it; or "installs": the pinned torch, an mmcv wheel (CUDA
        # ops when it comes from a -cu cache folder).
        _write(self.site / 'pip' / '__init__.py', '')
        _write(self.site / 'pip' / '__main__.py', f"""\
            import json
            import sys
            from pathlib import Path

            args = sys.argv[1:]
            files = {{a: Path(f).read_text() for a, f in zip(args, args[1:]) if a in ('-r', '-c')}}
            with open({str(self.pip_log)!r}, 'a') as f:
                f.write(json.dumps(dict(args=args, files=files)) + '\\n')
            if {pip_ok!r} is not True:
                sys.exit(3)
            site = Path({str(self.site)!r})
            if 'torch==2.14.1' in args:
                (site / 'torch' / '__init__.py').write_text(
                    "__version__ = '2.14.1+cu130'\\nclass version:\\n    cuda = '13.0'\\n"
                    "class cuda:\\n    is_available = staticmethod(lambda: False)\\n")
                (site / 'torchvision' / '__init__.py').write_text("__version__ = '0.29.1+cu130'\\n")
            for wheel in [a for a in args if a.endswith('.whl')]:
                compiled = Path(wheel).read_text() or ('13.0' if '-cu130-' in wheel else 'not available')
                (site / 'mmcv' / 'ops').mkdir(parents=True, exist_ok=True)
                (site / 'mmcv' / '__init__.py').write_text("__version__ = '2.1.0'\\n")
                (site / 'mmcv' / 'ops' / '__init__.py').write_text(
                    f"class RoIAlign:\\n    pass\\ndef get_compiling_cuda_version():\\n"
                    f"    return {{compiled!r}}\\n")
            """)
        if nvcc is not None:
            (self.cuda_home / 'bin').mkdir(parents=True)
            _write(self.bin / 'nvcc', f"""\
                #!/bin/sh
                # a wrapper like /usr/local/bin/nvcc: its toolkit is named by --dryrun's TOP
                case "$1" in
                    --version) echo "Cuda compilation tools, release {nvcc}, V{nvcc}.88" ;;
                    --dryrun) echo '#$ TOP={self.cuda_home}/bin/..' >&2 ;;
                esac
                """, 0o755)

    def cached_wheel(self, tag: str, compiled: str = '') -> Path:
        """A wheel in the cache folder TAG; the fake pip installs an mmcv whose ops were compiled with
        COMPILED (default: CUDA 13.0 from a -cu130- folder, else 'not available')."""
        wheel = self.cache / tag / WHEEL
        wheel.parent.mkdir(parents=True)
        wheel.write_text(compiled)
        return wheel

    def run(self, **env_extra) -> subprocess.CompletedProcess:
        real_path = [d for d in os.environ.get('PATH', '').split(os.pathsep)
                     if d and not os.path.exists(os.path.join(d, 'nvcc'))]
        env = {k: v for k, v in os.environ.items()
               if k not in ('CUDA_HOME', 'CUDA_PATH', 'MMLT_FORCE_TORCH', 'MMLT_CUDA_OPS')}
        env.update(PYTHON=sys.executable, PYTHONPATH=str(self.site), PYTHONNOUSERSITE='1',
                   PATH=os.pathsep.join([str(self.bin)] + real_path), HOME=str(self.root / 'home'),
                   MMLT_WHEEL_CACHE=str(self.cache), MMLT_INSTALL_DRY_RUN='1')
        env.update(env_extra)
        result = subprocess.run(['bash', str(SCRIPT)], env=env, capture_output=True, text=True,
                                timeout=120)
        if env['MMLT_INSTALL_DRY_RUN'] == '1':
            assert not self.pip_log.exists(), f'dry run called pip: {self.pip_log.read_text()}'
        return result

    def pip_calls(self) -> list:
        return [json.loads(line) for line in self.pip_log.read_text().splitlines()]


def _ok(result) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert '[install] dry run: nothing installed or built' in result.stdout
    return result.stdout


def _lines(out: str, prefix: str):
    return [line for line in out.splitlines() if line.startswith(f'[install] {prefix}')]


def _cache_dirs(machine: Machine):
    return sorted(p.name for p in machine.cache.iterdir())


@pytest.mark.parametrize('nvcc, gpu', [(None, False), ('13.0', False), (None, True)],
                         ids=['no-nvcc', 'nvcc-but-no-gpu', 'gpu-but-no-nvcc'])
def test_cpu_machine_keeps_torch_and_todays_cache_key(tmp_path, nvcc, gpu):
    """CUDA torch from PyPI, no nvcc (or no GPU, like this machine): CPU ops, today's cache folder,
    whose wheel is reused."""
    machine = Machine(tmp_path, nvcc=nvcc, gpu=gpu)
    tag = CPU_TAG or f'torch2.14.1-{PYTAG}'
    wheel = machine.cached_wheel(tag)
    out = _ok(machine.run())
    assert _lines(out, 'torch: keep the installed torch 2.14.1+cu130 (CUDA 13.0')
    assert _lines(out, 'mmcv ops: CPU only (')
    assert f'[install] wheel cache: {machine.cache / tag}\n' in out
    assert f'[install] mmcv wheel: reuse {wheel}\n' in out
    assert not _lines(out, 'torch: install')
    assert _cache_dirs(machine) == [tag]  # a dry run creates nothing


def test_cpu_cache_key_is_todays(tmp_path):
    """The CPU-ops key is exactly the one CI's cache holds: torch<version without +local>-cp<XY>."""
    out = _ok(Machine(tmp_path, torch='2.14.1+cu130').run())
    [line] = _lines(out, 'wheel cache: ')
    cache = Path(line.split(': ', 1)[1])
    assert cache.parent == tmp_path / 'wheels'
    assert cache.name == (CPU_TAG or f'torch2.14.1-{PYTAG}')


def test_cpu_torch_with_nvcc_gets_cpu_ops(tmp_path):
    out = _ok(Machine(tmp_path, torch='2.14.1+cpu', cuda=None, torchvision='0.29.1+cpu',
                      nvcc='13.0').run())
    assert _lines(out, 'mmcv ops: CPU only (torch 2.14.1+cpu is a CPU build)')
    assert f'/torch2.14.1-{PYTAG}\n' in out
    assert _lines(out, 'mmcv wheel: build mmcv 2.1.0 into')


def test_cuda_machine_builds_cuda_ops_and_ignores_the_cpu_wheel(tmp_path):
    """nvcc 13.0 + CUDA 13.0 torch + a GPU: CUDA ops, a cu130 cache folder; the installed CPU-ops
    mmcv is replaced and the CPU wheel of today's folder is not reused."""
    machine = Machine(tmp_path, gpu=True, nvcc='13.0', mmcv='not available')
    cpu_wheel = machine.cached_wheel(f'torch2.14.1-{PYTAG}')
    out = _ok(machine.run())
    assert _lines(out, 'torch: keep the installed torch 2.14.1+cu130')
    [ops] = _lines(out, 'mmcv ops: CUDA (')
    assert f'CUDA_HOME={machine.cuda_home}' in ops and 'nvcc 13.0' in ops
    cuda_cache = machine.cache / f'torch2.14.1-cu130-{PYTAG}'
    assert f'[install] wheel cache: {cuda_cache}\n' in out
    assert _lines(out, 'mmcv: the installed mmcv 2.1.0 has ops compiled without CUDA 13.0')
    assert f'[install] mmcv wheel: build mmcv 2.1.0 into {cuda_cache}\n' in out
    assert str(cpu_wheel) not in out
    assert _cache_dirs(machine) == [f'torch2.14.1-{PYTAG}']


def test_cuda_machine_reuses_a_cuda_wheel(tmp_path):
    machine = Machine(tmp_path, gpu=True, nvcc='13.0')
    wheel = machine.cached_wheel(f'torch2.14.1-cu130-{PYTAG}')
    out = _ok(machine.run())
    assert f'[install] mmcv wheel: reuse {wheel}\n' in out


def test_cuda_machine_keeps_an_mmcv_with_cuda_ops(tmp_path):
    out = _ok(Machine(tmp_path, gpu=True, nvcc='13.0', mmcv='13.0').run())
    assert '[install] mmcv 2.1.0 with ops already installed (CUDA 13.0)\n' in out
    assert not _lines(out, 'mmcv wheel:')


def test_cpu_machine_keeps_an_installed_mmcv(tmp_path):
    out = _ok(Machine(tmp_path, mmcv='not available').run())
    assert '[install] mmcv 2.1.0 with ops already installed\n' in out


def test_cuda_ops_override(tmp_path):
    # MMLT_CUDA_OPS=1: CUDA ops without a visible GPU (a build box)
    machine = Machine(tmp_path / 'a', nvcc='13.0')
    out = _ok(machine.run(MMLT_CUDA_OPS='1'))
    assert _lines(out, 'mmcv ops: CUDA (')
    assert f'/torch2.14.1-cu130-{PYTAG}\n' in out
    # MMLT_CUDA_OPS=0: CPU ops on a GPU machine, today's folder
    out = _ok(Machine(tmp_path / 'b', gpu=True, nvcc='13.0').run(MMLT_CUDA_OPS='0'))
    assert _lines(out, 'mmcv ops: CPU only (MMLT_CUDA_OPS=0)')
    assert f'/torch2.14.1-{PYTAG}\n' in out
    # MMLT_CUDA_OPS=1 cannot be honoured without nvcc
    result = Machine(tmp_path / 'c', gpu=True).run(MMLT_CUDA_OPS='1')
    assert result.returncode != 0
    assert 'MMLT_CUDA_OPS=1 but no nvcc on PATH' in result.stderr


def test_cuda_home_names_the_nvcc(tmp_path):
    """CUDA_HOME's nvcc is the one torch's build uses, so it is the one checked."""
    machine = Machine(tmp_path, gpu=True, torch='2.14.1+cu128', cuda='12.8')
    home = tmp_path / 'cuda-12.8'
    _write(home / 'bin' / 'nvcc', """\
        #!/bin/sh
        echo "Cuda compilation tools, release 12.8, V12.8.93"
        """, 0o755)
    out = _ok(machine.run(CUDA_HOME=str(home)))
    [ops] = _lines(out, 'mmcv ops: CUDA (')
    assert f'nvcc 12.8 at {home}/bin/nvcc' in ops and f'CUDA_HOME={home})' in ops
    assert f'/torch2.14.1-cu128-{PYTAG}\n' in out


def test_no_torch_installs_the_pinned_one(tmp_path):
    out = _ok(Machine(tmp_path, torch=None, torchvision=None).run())
    assert '[install] torch: install the pinned torch==2.14.1 torchvision==0.29.1 (no torch imports)\n' in out
    assert '[install] requirements: requirements.txt\n' in out
    assert not _lines(out, 'constraints:')


def test_force_torch_installs_the_pinned_one(tmp_path):
    out = _ok(Machine(tmp_path, gpu=True, nvcc='13.0').run(MMLT_FORCE_TORCH='1'))
    assert _lines(out, 'torch: install the pinned torch==2.14.1 torchvision==0.29.1 '
                       '(MMLT_FORCE_TORCH=1; installed: 2.14.1+cu130)')
    assert not _lines(out, 'torch: keep')
    assert '[install] requirements: requirements.txt\n' in out


def test_kept_torch_without_torchvision_stops(tmp_path):
    result = Machine(tmp_path, torchvision=None).run()
    assert result.returncode != 0
    assert 'torchvision does not import' in result.stderr and 'MMLT_FORCE_TORCH=1' in result.stderr


def test_nvcc_major_mismatch_stops_with_a_clear_message(tmp_path):
    """nvcc 13.0 but torch built with CUDA 12.8 on a GPU machine: an error (no silent CPU fallback)."""
    machine = Machine(tmp_path, torch='2.14.1+cu128', cuda='12.8', gpu=True, nvcc='13.0')
    result = machine.run()
    assert result.returncode != 0
    assert ('nvcc at ' in result.stderr and 'is CUDA 13.0 but torch 2.14.1+cu128 was built with CUDA 12.8'
            in result.stderr)
    assert 'major versions differ' in result.stderr and 'MMLT_CUDA_OPS=0' in result.stderr
    assert not _lines(result.stdout, 'wheel cache:')
    # the way out it names: CPU-only ops
    out = _ok(machine.run(MMLT_CUDA_OPS='0'))
    assert f'/torch2.14.1-{PYTAG}\n' in out
    # without a GPU no CUDA ops are wanted, so the mismatch does not matter
    out = _ok(Machine(tmp_path / 'nogpu', torch='2.14.1+cu128', cuda='12.8', nvcc='13.0').run())
    assert _lines(out, 'mmcv ops: CPU only (torch sees no GPU')


def test_nvcc_minor_mismatch_builds(tmp_path):
    out = _ok(Machine(tmp_path, torch='2.14.1+cu128', cuda='12.8', gpu=True, nvcc='12.6').run())
    [ops] = _lines(out, 'mmcv ops: CUDA (')
    assert 'minor versions differ' in ops
    assert f'/torch2.14.1-cu128-{PYTAG}\n' in out


def _filter(path: Path) -> list:
    result = subprocess.run(['bash', '-c', 'source "$1" && filter_requirements "$2"', '_', str(SCRIPT),
                             str(path)], capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.splitlines()


def test_requirements_filter_drops_only_torch_and_torchvision(tmp_path):
    lines = (REPO / 'requirements.txt').read_text().splitlines()
    kept = _filter(REPO / 'requirements.txt')
    dropped = [line for line in lines if line.startswith(('torch==', 'torchvision=='))]
    assert len(dropped) == 2
    assert kept == [line for line in lines if line not in dropped]
    names = [line for line in kept if line and not line.startswith('#')]
    assert any(line.startswith('numpy') for line in names)
    assert any(line.startswith('mmcv==') for line in names)
    assert any(line.startswith('mmpretrain==') for line in names)

    tricky = tmp_path / 'req.txt'
    tricky.write_text('torch\nTorch >= 2.0\n  torchvision; python_version > "3"\ntorch[opt]==2\n'
                      'torch @ https://example.invalid/torch.whl\ntorchmetrics==1.0\ntorchaudio\n'
                      'kornia==0.9.0\n# torch comment\n')
    assert _filter(tricky) == ['torchmetrics==1.0', 'torchaudio', 'kornia==0.9.0', '# torch comment']


def test_dry_run_names_the_filtered_requirements_and_constraints(tmp_path):
    out = _ok(Machine(tmp_path).run())
    [req] = _lines(out, 'requirements: requirements.txt without torch/torchvision:')
    assert 'numpy>=1.24' in req and 'mmcv==2.1.0' in req and 'kornia==0.9.0' in req
    assert 'torch==' not in req and 'torchvision==' not in req
    [constraints] = _lines(out, 'constraints: torch==')
    assert 'torchvision==' in constraints


# The real (not dry) run, with the fake pip: which pip calls the decisions turn into.

def _installed(result) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith('[install] done\n')
    return result.stdout


def test_run_keeps_torch_out_of_every_pip_call(tmp_path):
    machine = Machine(tmp_path, pip_ok=True)
    wheel = machine.cached_wheel(f'torch2.14.1-{PYTAG}')
    _installed(machine.run(MMLT_INSTALL_DRY_RUN='0'))
    calls = machine.pip_calls()
    assert [c['args'][:1] for c in calls] == [['install']] * 3
    build_tools, mmcv, rest = calls
    for call in calls:
        assert not [a for a in call['args'] if a.startswith(('torch==', 'torchvision=='))]
        assert call['files']['-c'].splitlines()[0].startswith('torch==')
        assert call['files']['-c'].splitlines()[1].startswith('torchvision==')
    assert 'numpy>=1.24' in build_tools['args'] and 'setuptools<82' in build_tools['args']
    assert mmcv['args'][-1] == str(wheel)
    req = rest['files']['-r']
    assert 'numpy>=1.24' in req and 'mmpretrain==1.2.0' in req and 'torch' not in req.replace('# ', '')
    assert rest['args'][-2:] == ['-e', str(REPO)]


def test_run_replaces_a_cpu_ops_mmcv_on_a_cuda_machine(tmp_path):
    machine = Machine(tmp_path, gpu=True, nvcc='13.0', mmcv='not available', pip_ok=True)
    machine.cached_wheel(f'torch2.14.1-{PYTAG}')
    wheel = machine.cached_wheel(f'torch2.14.1-cu130-{PYTAG}')
    _installed(machine.run(MMLT_INSTALL_DRY_RUN='0'))
    mmcv = machine.pip_calls()[1]['args']
    assert mmcv[-3:] == ['--force-reinstall', '--no-deps', str(wheel)]


def test_run_fails_when_the_cuda_wheel_has_no_cuda_ops(tmp_path):
    """A CPU-ops wheel put into the CUDA folder by hand is caught after install, and named."""
    machine = Machine(tmp_path, gpu=True, nvcc='13.0', pip_ok=True)
    wheel = machine.cached_wheel(f'torch2.14.1-cu130-{PYTAG}', compiled='not available')
    result = machine.run(MMLT_INSTALL_DRY_RUN='0')
    assert result.returncode != 0
    assert "mmcv's ops have no CUDA 13.0 kernels after install" in result.stderr
    assert f'delete {wheel} and rerun' in result.stderr


def test_run_without_torch_installs_the_pins_then_decides_from_them(tmp_path):
    machine = Machine(tmp_path, torch=None, torchvision=None, pip_ok=True)
    wheel = machine.cached_wheel(f'torch2.14.1-{PYTAG}')
    out = _installed(machine.run(MMLT_INSTALL_DRY_RUN='0'))
    build_tools, mmcv, rest = machine.pip_calls()
    assert 'torch==2.14.1' in build_tools['args'] and 'torchvision==0.29.1' in build_tools['args']
    assert '-c' not in build_tools['args'] and '-c' not in rest['args']
    assert mmcv['args'][-1] == str(wheel)
    assert rest['args'][-4:] == ['-r', str(REPO / 'requirements.txt'), '-e', str(REPO)]
    assert f'[install] wheel cache: {wheel.parent}\n' in out
