# Copyright (c) mmlt contributors. All rights reserved.
from .freeze_hook import FreezeAllButHook

__all__ = ['FreezeAllButHook']
