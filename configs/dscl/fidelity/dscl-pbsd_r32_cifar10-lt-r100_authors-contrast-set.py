# Fidelity A/B (docs/results.md): DSCL + PBSD on CIFAR-10-LT contrasting each query against the
# authors' set [q batch ; k batch ; queue] with itself masked (the batch's other queries and keys
# of the same class are positives too). The main config: the own key and the queue.
_base_ = './dscl-pbsd_r32_cifar10-lt-r100_ab-baseline.py'

model = dict(head=dict(contrast_mode='batch_queue'))
