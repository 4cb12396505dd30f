# Runtime shared by every mmlt config: MMPretrain's defaults plus mmlt's registration and the
# hooks that put the sampler position and the RNG states into checkpoints, so that a resumed run
# (mid-epoch included) continues exactly. Configs that set their own custom_hooks keep them with
# SamplerStateHook, RandomStateHook and LongTailPlotHook again (custom_hooks lists are replaced,
# not merged).
# AtomicCheckpointHook writes checkpoints and last_checkpoint by rename, so a kill never leaves a
# truncated one to resume from; InvalidLossHook stops a run at the first NaN/Inf loss term, before
# anything is saved; CheckpointShapeHook refuses a --resume / load_from checkpoint whose queue or
# head has other shapes than the config's. LongTailPlotHook sends the per-class accuracy plot of
# every LongTailAccuracy evaluation to the visualizer (and a test's metrics to add_scalars); it
# does nothing in a run without evaluation or without that metric.
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(imports=['mmlt'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='AtomicCheckpointHook', interval=10, max_keep_ckpts=3, save_last=True),
    invalid_loss=dict(type='InvalidLossHook'),
    checkpoint_shapes=dict(type='CheckpointShapeHook'),
)
custom_hooks = [
    dict(type='SamplerStateHook'),
    dict(type='RandomStateHook'),
    dict(type='LongTailPlotHook'),
]
randomness = dict(seed=0, deterministic=False)
