# mmdet's default runtime (default_scope 'mmdet', hooks, DetLocalVisualizer) with the logging of
# the short CPU schedules: a log line every 20 iterations, checkpoints every epoch (last 2 kept).
_base_ = 'mmdet::_base_/default_runtime.py'

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
