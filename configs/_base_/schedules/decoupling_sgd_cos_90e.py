# Kang et al. (ICLR 2020) on ImageNet-LT, both stages: SGD momentum 0.9, lr 0.2 for a batch of
# 512, weight decay 5e-4, cosine from 0.2 to 0 over the whole run, 90 epochs. The cosine has no
# `end`: the Runner ends it at train_cfg.max_epochs, so a config that trains for another number
# of epochs (cRT 10, LWS 5) sets max_epochs alone and the lr still reaches 0 at its last step.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0., by_epoch=True, begin=0,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=90, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
