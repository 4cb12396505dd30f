# Runtime shared by every mmlt config: MMPretrain's defaults plus mmlt's registration and the
# sampler-state hook, so that checkpoints carry the sampler position and resume exactly.
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(imports=['mmlt'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3, save_last=True),
)
custom_hooks = [dict(type='SamplerStateHook')]
randomness = dict(seed=0, deterministic=False)
