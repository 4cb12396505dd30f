# Copyright (c) mmlt contributors. All rights reserved.
from .model_zoo import find_model_index, model_names, register_model_zoo

__all__ = ['find_model_index', 'model_names', 'register_model_zoo']
