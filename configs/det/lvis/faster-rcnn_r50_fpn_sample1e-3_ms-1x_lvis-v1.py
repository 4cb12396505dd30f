# As faster-rcnn_r50_fpn_ms-1x_lvis-v1.py with LVIS's repeat-factor sampling (mmengine's
# ClassBalancedDataset, oversample_thr t = 1e-3, Gupta et al.): category repeat
# r_c = max(1, sqrt(t / f_c)) with f_c the fraction of training images holding c, an image
# repeated ceil(max_c r_c) times an epoch (mmdet's lvis_v1_instance.py default).
_base_ = './faster-rcnn_r50_fpn_ms-1x_lvis-v1.py'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ClassBalancedDataset',
        oversample_thr=1e-3,
        dataset={{_base_.train_dataloader.dataset}}))
