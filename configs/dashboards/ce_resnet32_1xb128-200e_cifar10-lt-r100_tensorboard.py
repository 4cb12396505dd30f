# ce_resnet32_1xb128-200e_cifar10-lt-r100.py (stage 1, CE ResNet-32, CIFAR-10-LT) with TensorBoard
# beside the local logs: losses, learning rate, top-1 / top-5 / Many / Medium / Few / mean class
# accuracy of every validation, and the per-class accuracy plot (LongTailPlotHook) on the IMAGES
# tab.  tensorboard --logdir work_dirs/ce_resnet32_1xb128-200e_cifar10-lt-r100_tensorboard
_base_ = ['../decoupled/ce_resnet32_1xb128-200e_cifar10-lt-r100.py', '../_base_/tensorboard.py']

visualizer = {{_base_.tensorboard_visualizer}}
