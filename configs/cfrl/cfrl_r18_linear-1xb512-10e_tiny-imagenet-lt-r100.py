# CFRL classifier stage on tiny-imagenet-lt-r100: a linear probe (the cRT recipe of
# cfrl_r18_crt-1xb512-10e_tiny-imagenet-lt-r100.py with instance-balanced sampling) on the frozen
# stage-1b backbone. Its checkpoint is the "joint" classifier that LWS and tau-norm re-balance
# (configs/decoupled/lws_* / tau-norm_*; see docs/cfrl.md).
#
#   python tools/train.py configs/cfrl/cfrl_r18_linear-1xb512-10e_tiny-imagenet-lt-r100.py
_base_ = './cfrl_r18_crt-1xb512-10e_tiny-imagenet-lt-r100.py'

train_dataloader = dict(
    sampler=dict(_delete_=True, type='InstanceBalancedSampler', shuffle=True))
