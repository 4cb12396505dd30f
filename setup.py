"""mmlt: long-tailed recognition for OpenMMLab (an MMPretrain plugin)."""
import os
import re
import shutil
import sys
import warnings
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).resolve().parent

# Shipped inside the package as mmlt/.mim/<name> so that OpenMMLab's `mim` finds them in an
# installed mmlt (`mim train mmlt CONFIG`, `mim test mmlt CONFIG --checkpoint ...`,
# `mim run mmlt TOOL`), as MMPretrain's setup.py does. A name missing from the checkout is skipped.
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def get_version():
    text = (ROOT / 'mmlt' / 'version.py').read_text()
    return re.search(r"__version__ = '([^']+)'", text).group(1)


def mim_mode(argv):
    """'symlink' for an editable install (``pip install -e .``: setuptools' ``editable_wheel``, or
    the legacy ``develop``), 'copy' when building a wheel or an sdist, else None (nothing to do)."""
    if 'develop' in argv or 'editable_wheel' in argv:
        return 'symlink'
    if 'bdist_wheel' in argv or 'sdist' in argv:
        return 'copy'
    return None


def add_mim_extension(mode, root=ROOT):
    """Put :data:`MIM_FILES` into ``root/mmlt/.mim``: relative symlinks to the originals in
    ``'symlink'`` mode (edits show at once), copies in ``'copy'`` mode (what a wheel holds).

    A wheel built in a checkout that has an editable install keeps its links (the build reads the
    files through them, and the editable install stays live). Building from an sdist, whose
    ``mmlt/.mim`` already holds the copies and which has no top-level ``configs/`` or ``tools/``,
    leaves those copies as they are.
    """
    if mode is None:
        return
    root = Path(root)
    mim_path = root / 'mmlt' / '.mim'
    for name in MIM_FILES:
        src = root / name
        if not src.exists():
            continue
        mim_path.mkdir(parents=True, exist_ok=True)
        dst = mim_path / name
        if mode == 'copy' and dst.is_symlink() and dst.resolve() == src.resolve():
            continue
        if dst.is_symlink() or dst.is_file():  # is_symlink first: never rmtree through a link
            dst.unlink()
        elif dst.is_dir():
            shutil.rmtree(dst)
        if mode == 'symlink':
            try:
                os.symlink(os.path.relpath(src, dst.parent), dst)
                continue
            except OSError:  # e.g. Windows without the symlink privilege
                warnings.warn(f'Failed to create a symbolic link {dst} -> {src}; '
                              'copying it instead')
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension(mim_mode(sys.argv))
    setup(
        name='mmlt',
        version=get_version(),
        description='Long-tailed image recognition for OpenMMLab MMPretrain: '
        'decoupled two-stage training, DSCL + PBSD, CFRL',
        long_description=(ROOT / 'README.md').read_text()
        if (ROOT / 'README.md').exists() else '',
        long_description_content_type='text/markdown',
        packages=find_packages(include=['mmlt', 'mmlt.*']),
        # mmlt/.mim/{configs,tools,model-index.yml}, selected by MANIFEST.in
        include_package_data=True,
        python_requires='>=3.8',
        # Compatible ranges only; the tested, pinned stack is requirements.txt
        # (installed by tools/install.sh, which also builds mmcv with its ops).
        install_requires=[
            'torch>=1.13',
            'torchvision',
            'numpy',
            'mmengine>=0.10.0,<1.0.0',
            'mmcv>=2.0.0,<2.2.0',
            'mmpretrain>=1.2.0,<2.0.0',
            'kornia>=0.7',
            'matplotlib',
        ],
        extras_require={
            'det': ['mmdet>=3.3.0,<3.4.0'],
            'tests': ['pytest', 'scipy'],
        },
        license='Apache License 2.0',
        zip_safe=False,
    )
