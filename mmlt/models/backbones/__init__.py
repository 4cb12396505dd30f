from .resnet_cifar_lt import CifarResNet  # noqa: F401
