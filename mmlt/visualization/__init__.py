"""Figures of long-tailed results (per-class accuracy against training frequency) and the
optional TensorBoard backend of ``configs/_base_/tensorboard.py``."""
from .lt_plot import (draw_lt_accuracy, figure_to_rgb, moving_average, plot_lt_accuracy,
                      read_per_class_csv, render_lt_accuracy)
from .vis_backend import OptionalTensorboardVisBackend

__all__ = [
    'OptionalTensorboardVisBackend', 'draw_lt_accuracy', 'figure_to_rgb', 'moving_average',
    'plot_lt_accuracy', 'read_per_class_csv', 'render_lt_accuracy'
]
