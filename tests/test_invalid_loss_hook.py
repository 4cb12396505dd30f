"""A NaN loss stops the run at once, names the iteration and terms, and saves nothing."""
import math

import pytest
import torch
from mmengine.runner import Runner

from _utils import small_cfg
from mmlt.engine.hooks import InvalidLossHook

CE_CONFIG = 'decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100.py'


def test_nan_loss_stops_before_the_checkpoint(tmp_path, cifar10_jpeg_root):
    cfg = small_cfg(CE_CONFIG, tmp_path, cifar10_jpeg_root, num_images=64, batch_size=16,
                    max_epochs=1, checkpoint_interval=1)  # a checkpoint after every iteration
    assert cfg.default_hooks.invalid_loss.type == 'InvalidLossHook'  # from the default runtime
    runner = Runner.from_cfg(cfg)
    head = runner.model.head
    real_loss, calls = head.loss, []

    def loss_nan_at_third(*args, **kwargs):
        losses = real_loss(*args, **kwargs)
        calls.append(1)
        if len(calls) == 3:
            losses['loss'] = losses['loss'] * float('nan')
        return losses

    head.loss = loss_nan_at_third
    with pytest.raises(FloatingPointError) as err:
        runner.train()
    msg = str(err.value)
    assert 'iteration 3 (epoch 1, batch 3)' in msg and 'loss=nan' in msg
    assert 'iter_2.pth' in msg  # names the checkpoint to resume from
    assert (tmp_path / 'iter_2.pth').exists()
    assert not (tmp_path / 'iter_3.pth').exists()  # the NaN weights were never saved
    ckpt = torch.load(tmp_path / 'iter_2.pth', map_location='cpu', weights_only=False)
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values()
               if v.is_floating_point())


class _Runner:
    def __init__(self, work_dir):
        self.iter, self.epoch, self.work_dir = 6, 0, str(work_dir)


def test_hook_checks_every_term_and_interval(tmp_path):
    hook = InvalidLossHook(interval=1)
    ok = dict(loss=torch.tensor(1.0), loss_dscl=torch.tensor(0.5), acc=torch.tensor(math.nan))
    hook.after_train_iter(_Runner(tmp_path), 6, outputs=ok)  # non-loss entries are not losses
    bad = dict(loss=torch.tensor(1.0), loss_pbsd=torch.tensor(math.inf))
    with pytest.raises(FloatingPointError,
                       match=r'iteration 7 .*loss=1, loss_pbsd=inf.*no checkpoint'):
        hook.after_train_iter(_Runner(tmp_path), 6, outputs=bad)
    InvalidLossHook(interval=4).after_train_iter(_Runner(tmp_path), 6, outputs=bad)  # 7 % 4
    with pytest.raises(ValueError, match='interval'):
        InvalidLossHook(interval=0)
