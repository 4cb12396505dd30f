# ce_resnet50_4xb128-90e_inat18.py for 200 epochs (Kang et al.'s longer iNaturalist schedule).
_base_ = './ce_resnet50_4xb128-90e_inat18.py'

train_cfg = dict(max_epochs=200)
