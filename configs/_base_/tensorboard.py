# Dashboards: TensorBoard beside the local files (vis_data/scalars.json, <timestamp>.json and the
# PNGs of vis_data/vis_image/, which tools/benchmark reads): MMPretrain's UniversalVisualizer with
# MMEngine's LocalVisBackend and mmlt's OptionalTensorboardVisBackend, MMEngine's
# TensorboardVisBackend (event files in <work_dir>/<timestamp>/vis_data/) that warns and writes
# nothing instead of stopping when the tensorboard package is missing (pip install tensorboard).
# Every runtime already sets `visualizer` and mmengine refuses a key that two _base_ files both
# set, so this file holds the visualizer under its own name and a config switches it on with
#   _base_ = ['<the config>.py', '../_base_/tensorboard.py']
#   visualizer = {{_base_.tensorboard_visualizer}}
tensorboard_visualizer = dict(
    type='UniversalVisualizer',
    vis_backends=[dict(type='LocalVisBackend'), dict(type='OptionalTensorboardVisBackend')])
