"""mmlt: long-tailed recognition for OpenMMLab (an MMPretrain plugin)."""
import re
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent


def get_version():
    text = (ROOT / 'mmlt' / 'version.py').read_text()
    return re.search(r"__version__ = '([^']+)'", text).group(1)


setup(
    name='mmlt',
    version=get_version(),
    description='Long-tailed image recognition for OpenMMLab MMPretrain: '
    'decoupled two-stage training, DSCL + PBSD, CFRL',
    long_description=(ROOT / 'README.md').read_text()
    if (ROOT / 'README.md').exists() else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmlt', 'mmlt.*']),
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
    extras_require={'det': ['mmdet>=3.3.0,<3.4.0'], 'tests': ['pytest', 'scipy']},
    license='Apache License 2.0',
    zip_safe=False,
)
