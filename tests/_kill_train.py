"""``tools/train.py`` that SIGKILLs itself at a chosen moment (for the kill-anywhere soak test).

    MMLT_KILL=iter:N|save:N|eval:N python tests/_kill_train.py CONFIG [train.py args]

``iter:N``: before training iteration N (0-based, counted over the whole run); ``save:N``: in
the middle of writing the N-th checkpoint file of this process (half its bytes written);
``eval:N``: at the N-th validation batch of this process. Without MMLT_KILL it is train.py.
"""
import os
import runpy
import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _die():
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(spec: str) -> None:
    kind, n = spec.split(':')
    n = int(n)
    calls = [0]
    if kind == 'iter':
        from mmengine.runner import EpochBasedTrainLoop
        run_iter = EpochBasedTrainLoop.run_iter

        def killing_run_iter(self, idx, data_batch):
            if self._iter == n:
                _die()
            return run_iter(self, idx, data_batch)
        EpochBasedTrainLoop.run_iter = killing_run_iter
    elif kind == 'save':
        from mmengine.fileio.backends import LocalBackend
        put = LocalBackend.put

        def killing_put(self, obj, filepath):
            if str(filepath).endswith(('.pth', '.pth.partial')):
                calls[0] += 1
                if calls[0] == n:
                    with open(filepath, 'wb') as f:
                        f.write(obj[:len(obj) // 2])
                    _die()
            return put(self, obj, filepath)
        LocalBackend.put = killing_put
    elif kind == 'eval':
        from mmengine.runner import ValLoop
        run_iter = ValLoop.run_iter

        def killing_val_iter(self, idx, data_batch):
            calls[0] += 1
            if calls[0] == n:
                _die()
            return run_iter(self, idx, data_batch)
        ValLoop.run_iter = killing_val_iter
    else:
        raise ValueError(f'MMLT_KILL: unknown kind {kind!r}')


if __name__ == '__main__':
    if os.environ.get('MMLT_KILL'):
        install(os.environ['MMLT_KILL'])
    sys.argv = [str(REPO / 'tools' / 'train.py')] + sys.argv[1:]
    sys.path.insert(0, str(REPO / 'tools'))
    runpy.run_path(str(REPO / 'tools' / 'train.py'), run_name='__main__')
