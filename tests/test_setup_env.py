"""mmlt.utils.setup_env.retain_freed_memory: freed activations are reused without page faults."""
import os
import subprocess
import sys
import textwrap

import pytest

from mmlt.utils.setup_env import RETAIN_ENV, retain_freed_memory

# Allocates and frees a 64 MiB tensor (above glibc's largest mmap threshold, 32 MiB) until the
# heap is in its steady state, then counts the minor page faults of five more rounds.
FAULTS = textwrap.dedent('''
    import resource
    import sys

    import torch

    from mmlt.utils.setup_env import retain_freed_memory

    print(retain_freed_memory(), file=sys.stderr)

    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    def round_trip():
        x = torch.ones(16 * 2**20)  # float32: 64 MiB, every page written
        del x

    for _ in range(12):
        round_trip()
    before = faults()
    for _ in range(5):
        round_trip()
    print(faults() - before)
''')


def _faults(retain: bool):
    env = dict(os.environ, **{RETAIN_ENV: '1' if retain else '0'})
    out = subprocess.run([sys.executable, '-c', FAULTS], env=env, capture_output=True,
                         text=True, check=True)
    applied = out.stderr.strip().splitlines()[-1]
    return int(out.stdout.strip().splitlines()[-1]), applied


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='glibc malloc (Linux)')
def test_retained_memory_is_reused_without_page_faults():
    default, applied_default = _faults(retain=False)
    retained, applied = _faults(retain=True)
    assert (applied_default, applied) == ('False', 'True')
    # glibc's default maps every 64 MiB block afresh and faults it in again: one fault per 4 KiB
    # page (81,920 in five rounds), or at least per 2 MiB page with transparent huge pages
    assert default >= 5 * 32, default
    assert retained < default // 20, (retained, default)


def test_environment_turns_it_off(monkeypatch):
    monkeypatch.setenv(RETAIN_ENV, '0')
    assert retain_freed_memory() is False
