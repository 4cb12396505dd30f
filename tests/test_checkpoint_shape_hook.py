"""--resume / load_from refuse a checkpoint whose queue or head has other shapes."""
import pytest
import torch
from mmengine.runner import Runner

from _utils import small_cfg

CE = 'decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100.py'
DSCL = 'dscl/dscl-pbsd_r32_1xb256-coslr-200e_cifar10-lt-r100.py'


def _save(runner, path):
    torch.save({'state_dict': runner.model.state_dict(), 'meta': {}}, path)
    return str(path)


def test_queue_length_mismatch_is_an_error_naming_the_field(tmp_path, cifar10_jpeg_root):
    def runner(queue_len, sub):
        cfg = small_cfg(DSCL, tmp_path / sub, cifar10_jpeg_root, num_images=32, batch_size=8)
        cfg.model.queue_len = queue_len
        return Runner.from_cfg(cfg)

    ckpt = _save(runner(64, 'a'), tmp_path / 'q64.pth')
    other = runner(128, 'b')
    with pytest.raises(ValueError) as err:
        other.load_checkpoint(ckpt)
    msg = str(err.value)
    assert 'queue.feats: checkpoint (64, 128), config (128, 128)' in msg
    assert 'model.queue_len' in msg and 'queue.labels' in msg
    # the same queue length loads, queue included
    same = runner(64, 'c')
    same.load_checkpoint(ckpt)


def test_head_class_count_mismatch_is_an_error(tmp_path, cifar10_jpeg_root):
    cfg = small_cfg(CE, tmp_path / 'a', cifar10_jpeg_root, num_images=32, batch_size=8)
    ckpt = _save(Runner.from_cfg(cfg), tmp_path / 'ce.pth')
    cfg = small_cfg(CE, tmp_path / 'b', cifar10_jpeg_root, num_images=32, batch_size=8)
    cfg.model.head.num_classes = 7
    cfg.load_from = ckpt
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match=r'ce\.pth: 2 tensor\(s\).*\n  head\.fc\.weight: '
                       r'checkpoint \(10, 64\), config \(7, 64\) \(number of classes'):
        runner.load_or_resume()
    # without the hook mmengine would only warn and keep a random head
    runner._hooks = [h for h in runner._hooks if type(h).__name__ != 'CheckpointShapeHook']
    runner.load_or_resume()
