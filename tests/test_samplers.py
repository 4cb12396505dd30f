"""Tests of the class-aware samplers (Kang et al. Eq. 1-2) and the mid-epoch resume hook."""
import copy

import numpy as np
import pytest
import torch
from scipy.stats import chisquare
from torch.utils.data import Dataset

import mmlt  # noqa: F401  (registers everything, applies compat fixes)
from mmlt.datasets.samplers import (ClassAwareSampler, ClassBalancedSampler,
                                    ClassPowerSampler, InstanceBalancedSampler,
                                    ProgressiveBalancedSampler,
                                    SquareRootSampler)
from mmlt.datasets.samplers import class_power_sampler as sampler_module

# a long-tailed label list: 6 classes with 200, 80, 40, 15, 5, 0 (empty) images, then 2 more
COUNTS = [200, 80, 40, 15, 5, 0, 3, 1]


class FakeLTDataset:
    """Labels only: what a sampler reads."""

    def __init__(self, counts=COUNTS, seed=0):
        labels = np.repeat(np.arange(len(counts)), counts)
        np.random.default_rng(seed).shuffle(labels)  # classes interleaved
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def get_gt_labels(self):
        return self.labels.copy()


class CatIdsOnlyDataset(FakeLTDataset):
    """A dataset with only ``get_cat_ids`` (the documented fallback)."""

    def __getattribute__(self, name):
        if name == 'get_gt_labels':
            raise AttributeError(name)
        return super().__getattribute__(name)

    def get_cat_ids(self, idx):
        return [int(self.labels[idx])]


def expected_probs(counts, q):
    """Naive Eq. 1: p_j = n_j^q / sum n_i^q over non-empty classes."""
    w = [n**q if n > 0 else 0.0 for n in counts]
    return np.array(w) / sum(w)


def class_histogram(dataset, indices, num_classes):
    return np.bincount(dataset.labels[np.asarray(indices)], minlength=num_classes)


def chi2_p(observed, probs):
    """Chi-square goodness of fit over the classes with p_j > 0 (empty ones must be 0)."""
    keep = probs > 0
    assert observed[~keep].sum() == 0, 'an empty class was sampled'
    expected = probs[keep] * observed.sum()
    return chisquare(observed[keep], expected).pvalue


@pytest.mark.parametrize('q', [1.0, 0.5, 0.0])
def test_class_frequencies_match_power_law(q):
    ds = FakeLTDataset()
    sampler = ClassPowerSampler(ds, q=q, num_samples=20000, seed=3)
    hist = class_histogram(ds, list(sampler), len(COUNTS))
    probs = expected_probs(COUNTS, q)
    assert chi2_p(hist, probs) > 1e-3
    # and the alternative (another q) is rejected: the test has power
    other = expected_probs(COUNTS, 1.0 if q != 1.0 else 0.0)
    assert chi2_p(hist, other) < 1e-6


def test_within_class_uniform():
    ds = FakeLTDataset()
    sampler = ClassBalancedSampler(ds, num_samples=30000, seed=1)
    idx = np.asarray(list(sampler))
    members = np.flatnonzero(ds.labels == 2)  # 40 images
    per_image = np.bincount(idx, minlength=len(ds))[members]
    assert chisquare(per_image).pvalue > 1e-3


def test_convenience_subclasses_and_registry():
    from mmengine.registry import DATA_SAMPLERS
    ds = FakeLTDataset()
    for name, q in [('InstanceBalancedSampler', 1.0), ('SquareRootSampler', 0.5),
                    ('ClassBalancedSampler', 0.0)]:
        s = DATA_SAMPLERS.build(dict(type=name, dataset=ds, seed=0))
        assert s.q == q
        np.testing.assert_allclose(s.class_probabilities().numpy(),
                                   expected_probs(COUNTS, q), rtol=1e-12)
    s = DATA_SAMPLERS.build(
        dict(type='ProgressiveBalancedSampler', dataset=ds, total_epochs=4, seed=0))
    assert isinstance(s, ProgressiveBalancedSampler)
    assert issubclass(SquareRootSampler, ClassPowerSampler)


def test_instance_balanced_is_exact_permutation():
    ds = FakeLTDataset()
    sampler = InstanceBalancedSampler(ds, seed=5)
    for epoch in range(2):
        sampler.set_epoch(epoch)
        idx = list(sampler)
        assert sorted(idx) == list(range(len(ds)))
        assert idx != list(range(len(ds)))  # shuffled
    ordered = ClassPowerSampler(ds, q=1, shuffle=False, seed=0)
    assert list(ordered) == list(range(len(ds)))
    with pytest.raises(ValueError, match='shuffle=False'):
        ClassPowerSampler(ds, q=0.5, shuffle=False, seed=0)
    with pytest.raises(ValueError, match='shuffle=False'):
        ProgressiveBalancedSampler(ds, total_epochs=2, shuffle=False, seed=0)


def test_labels_from_get_cat_ids():
    ds = CatIdsOnlyDataset()
    sampler = ClassPowerSampler(ds, q=0.0, seed=0)
    assert sampler.class_counts.tolist() == COUNTS


def test_progressive_schedule():
    ds = FakeLTDataset()
    T = 4
    sampler = ProgressiveBalancedSampler(ds, total_epochs=T, num_samples=20000, seed=11)
    p_ib, p_cb = expected_probs(COUNTS, 1.0), expected_probs(COUNTS, 0.0)
    for t, want in [(0, p_ib), (2, 0.5 * p_ib + 0.5 * p_cb), (T, p_cb), (T + 3, p_cb)]:
        sampler.set_epoch(t)
        np.testing.assert_allclose(sampler.class_probabilities().numpy(), want, rtol=1e-12)
        hist = class_histogram(ds, list(sampler), len(COUNTS))
        assert chi2_p(hist, want) > 1e-3
    # midway differs measurably from both ends
    sampler.set_epoch(2)
    hist = class_histogram(ds, list(sampler), len(COUNTS))
    assert chi2_p(hist, p_ib) < 1e-6 and chi2_p(hist, p_cb) < 1e-6


@pytest.mark.parametrize('cls,kwargs', [
    (ClassPowerSampler, dict(q=1.0)),
    (ClassPowerSampler, dict(q=0.5)),
    (ProgressiveBalancedSampler, dict(total_epochs=3)),
    (ClassAwareSampler, dict(num_samples_cls=4)),
])
@pytest.mark.parametrize('round_up', [True, False])
def test_ranks_get_disjoint_shares_of_the_global_draw(monkeypatch, cls, kwargs, round_up):
    ds = FakeLTDataset()  # 344 images; 3 ranks do not divide it
    single = cls(ds, seed=7, round_up=round_up, **kwargs)
    single.set_epoch(1)
    full = list(single)
    world = 3
    shares = []
    for rank in range(world):
        monkeypatch.setattr(sampler_module, 'get_dist_info', lambda r=rank: (r, world))
        s = cls(ds, seed=7, round_up=round_up, **kwargs)
        s.set_epoch(1)
        share = list(s)
        assert len(share) == len(s)
        shares.append(share)
    # the one-process draw, padded as DefaultSampler pads (repeat from the start)
    total = sum(len(share) for share in shares)
    padded = (full * 2)[:total]
    if round_up:
        assert len({len(share) for share in shares}) == 1 and total >= len(full)
    else:
        assert total == len(full)
    for r in range(world):  # rank r holds global positions r, r + W, ...: disjoint shares
        assert shares[r] == padded[r::world]
    assert sorted(x for share in shares for x in share) == sorted(padded)


def test_same_seed_and_epoch_same_order():
    ds = FakeLTDataset()
    for q in (1.0, 0.0):
        a, b = ClassPowerSampler(ds, q=q, seed=2), ClassPowerSampler(ds, q=q, seed=2)
        a.set_epoch(3)
        b.set_epoch(3)
        assert list(a) == list(b)
        b.set_epoch(4)
        assert list(a) != list(b)
        c = ClassPowerSampler(ds, q=q, seed=9)
        c.set_epoch(3)
        assert list(a) != list(c)


@pytest.mark.parametrize('world', [1, 2])
@pytest.mark.parametrize('cls,kwargs', [
    (ClassPowerSampler, dict(q=1.0)),
    (ClassPowerSampler, dict(q=0.0)),
    (ClassAwareSampler, dict(num_samples_cls=4)),
], ids=['q1', 'q0', 'class-aware'])
def test_resume_yields_tail_of_uninterrupted_epoch(monkeypatch, world, cls, kwargs):
    ds = FakeLTDataset()
    for rank in range(world):
        monkeypatch.setattr(sampler_module, 'get_dist_info', lambda r=rank: (r, world))
        ref = cls(ds, seed=4, **kwargs)
        ref.set_epoch(2)
        uninterrupted = list(ref)
        consumed_iters, batch = 5, 8
        state = ref.state_dict(consumed_samples=consumed_iters * batch * world)
        assert state['epoch'] == 2 and state['seed'] == 4

        fresh = cls(ds, seed=123, **kwargs)  # another seed: restored from state
        fresh.load_state_dict(copy.deepcopy(state))
        fresh.set_epoch(2)  # what DistSamplerSeedHook does before the epoch
        assert list(fresh) == uninterrupted[consumed_iters * batch:]
        # the skip applies once; the next pass over the epoch is complete again
        assert list(fresh) == uninterrupted
        fresh.set_epoch(3)
        ref.set_epoch(3)
        assert list(fresh) == list(ref)


def test_skip_dropped_when_epoch_changes_and_bad_state():
    ds = FakeLTDataset()
    s = ClassPowerSampler(ds, q=0.5, seed=0)
    s.skip_once(10)
    s.set_epoch(1)
    assert len(list(s)) == len(ds)
    with pytest.raises(ValueError, match='outside'):
        s.skip_once(len(ds) + 1)
    with pytest.raises(ValueError, match='epoch_size'):
        s.load_state_dict(dict(epoch=0, seed=0, consumed_samples=0, epoch_size=5))


# --------------------------------------------------------------------------- #
# Kang et al.'s class-aware sampling (ClassBalancedSampler(class_aware=True))
# --------------------------------------------------------------------------- #
MAX_X_CLASSES = max(COUNTS) * sum(n > 0 for n in COUNTS)  # 200 x 7 non-empty classes


def class_streams(ds, indices):
    """Each class's samples of the epoch, in order: {class: [index, ...]}."""
    streams = {}
    for i in indices:
        streams.setdefault(int(ds.labels[i]), []).append(int(i))
    return streams


@pytest.mark.parametrize('k', [1, 4])
def test_class_aware_epoch_gives_every_class_max_count(k):
    ds = FakeLTDataset()
    sampler = ClassAwareSampler(ds, num_samples_cls=k, seed=0)
    assert sampler.epoch_size == len(sampler) == MAX_X_CLASSES == 1400
    for epoch in range(2):
        sampler.set_epoch(epoch)
        idx = list(sampler)
        assert len(idx) == MAX_X_CLASSES
        # k divides max_count: every non-empty class exactly max_count times, the empty one never
        want = [max(COUNTS) if n else 0 for n in COUNTS]
        assert class_histogram(ds, idx, len(COUNTS)).tolist() == want


@pytest.mark.parametrize('k', [1, 3, 4])
def test_class_aware_runs_and_rounds(k):
    """Visits of k same-class samples; every round of C visits holds every class once."""
    ds = FakeLTDataset()
    present = [c for c, n in enumerate(COUNTS) if n]
    sampler = ClassAwareSampler(ds, num_samples_cls=k, seed=1)
    labels = ds.labels[np.asarray(list(sampler))]
    assert len(labels) == MAX_X_CLASSES
    visits = [labels[i:i + k] for i in range(0, len(labels), k)]
    assert all(len(set(v)) == 1 for v in visits)
    visit_classes = [int(v[0]) for v in visits]
    C = len(present)
    for r in range(0, len(visit_classes), C):
        rnd = visit_classes[r:r + C]
        assert len(set(rnd)) == len(rnd)  # no class twice in a round
        if len(rnd) == C:
            assert sorted(rnd) == present
    # the rounds are shuffled, not a fixed class order
    assert len({tuple(visit_classes[r:r + C]) for r in range(0, C * 10, C)}) > 1
    if k == 3:  # 3 does not divide 200: counts differ by less than one visit
        hist = np.bincount(labels, minlength=len(COUNTS))
        assert hist.sum() == MAX_X_CLASSES and np.ptp(hist[present]) <= k


@pytest.mark.parametrize('k', [1, 4])
def test_class_aware_cycles_through_each_class(k):
    """A class's stream is passes over all its images, each a fresh random permutation; the
    stream runs on across visits (class 4 has 5 images and is visited 4 at a time)."""
    ds = FakeLTDataset()
    sampler = ClassAwareSampler(ds, num_samples_cls=k, seed=2)
    streams = class_streams(ds, list(sampler))
    for c, n in enumerate(COUNTS):
        if not n:
            assert c not in streams
            continue
        members = sorted(np.flatnonzero(ds.labels == c).tolist())
        stream = streams[c]
        passes = [stream[i:i + n] for i in range(0, len(stream), n)]
        for p in passes:
            if len(p) == n:
                assert sorted(p) == members  # every image once before any repeats
            else:
                assert len(set(p)) == len(p)  # the cut last pass has no repeat either
        if n > 2 and len(passes) > 2:
            assert len({tuple(p) for p in passes}) > 1  # reshuffled per pass


def test_class_aware_is_an_option_of_class_balanced():
    from mmengine.registry import DATA_SAMPLERS
    ds = FakeLTDataset()
    option = ClassBalancedSampler(ds, class_aware=True, num_samples_cls=4, seed=3)
    alias = DATA_SAMPLERS.build(dict(type='ClassAwareSampler', dataset=ds, num_samples_cls=4,
                                     seed=3))
    assert isinstance(alias, ClassBalancedSampler) and alias.class_aware
    assert list(option) == list(alias)
    assert option.q == 0.0
    np.testing.assert_allclose(option.class_probabilities().numpy(), expected_probs(COUNTS, 0.0))
    # the default is unchanged: i.i.d. draws, an epoch of len(dataset)
    iid = ClassBalancedSampler(ds, seed=3)
    assert not iid.class_aware and len(iid) == len(ds)
    # the epoch-length rules apply to every sampler; an int still overrides them
    assert len(ClassBalancedSampler(ds, num_samples='max_count_x_classes', seed=0)) == 1400
    assert len(SquareRootSampler(ds, num_samples='max_count_x_classes', seed=0)) == 1400
    assert len(ClassAwareSampler(ds, num_samples='dataset', seed=0)) == len(ds)
    assert len(list(ClassAwareSampler(ds, num_samples_cls=4, num_samples=10, seed=0))) == 10
    with pytest.raises(ValueError, match='class_aware=True'):
        ClassBalancedSampler(ds, num_samples_cls=4)
    with pytest.raises(ValueError, match='num_samples_cls'):
        ClassAwareSampler(ds, num_samples_cls=0)
    with pytest.raises(ValueError, match='max_count_x_classes'):
        ClassAwareSampler(ds, num_samples='max')
    with pytest.raises(ValueError, match='shuffle=False'):
        ClassAwareSampler(ds, shuffle=False)


def test_class_aware_same_seed_and_epoch_same_order():
    ds = FakeLTDataset()
    a, b = ClassAwareSampler(ds, num_samples_cls=4, seed=2), ClassAwareSampler(
        ds, num_samples_cls=4, seed=2)
    a.set_epoch(3)
    b.set_epoch(3)
    assert list(a) == list(b) == list(a)  # iterating again gives the same epoch
    b.set_epoch(4)
    assert list(a) != list(b)
    c = ClassAwareSampler(ds, num_samples_cls=4, seed=9)
    c.set_epoch(3)
    assert list(a) != list(c)


def test_class_aware_ranks_share_the_global_runs(monkeypatch):
    """Ranks take disjoint strided shares of ONE global order that has the runs of k; a
    global batch (all ranks' b-th batches) is a contiguous stretch of that order."""
    ds = FakeLTDataset()
    world, k, batch = 4, 4, 8
    single = ClassAwareSampler(ds, num_samples_cls=k, seed=5)
    full = single.global_indices().tolist()
    shares = []
    for rank in range(world):
        monkeypatch.setattr(sampler_module, 'get_dist_info', lambda r=rank: (r, world))
        s = ClassAwareSampler(ds, num_samples_cls=k, seed=5)
        assert s.global_indices().tolist() == full
        shares.append(list(s))
    assert [len(x) for x in shares] == [MAX_X_CLASSES // world] * world
    for b in range(3):
        got = sorted(x for share in shares for x in share[b * batch:(b + 1) * batch])
        assert got == sorted(full[b * batch * world:(b + 1) * batch * world])


def test_class_aware_large_epoch_is_fast():
    """An ImageNet-LT-sized epoch (1000 classes, 1280 -> 5 images, 1.28 M samples)."""
    import time
    counts = np.maximum((1280 * np.exp(-np.arange(1000) / 180)).astype(int), 5)
    sampler = ClassAwareSampler(FakeLTDataset(counts), num_samples_cls=4, seed=0)
    assert sampler.epoch_size == 1280 * 1000
    start = time.perf_counter()
    idx = sampler.global_indices()
    assert time.perf_counter() - start < 30
    hist = np.bincount(sampler.dataset.labels[idx.numpy()], minlength=1000)
    assert (hist == 1280).all()


# --------------------------------------------------------------------------- #
# SamplerStateHook inside a real mmengine Runner
# --------------------------------------------------------------------------- #
class IndexDataset(Dataset):
    """Item i is a tensor holding i; labels long-tailed."""

    def __init__(self, n=30):
        self.labels = np.repeat(np.arange(3), [18, 9, 3])[:n]
        self.metainfo = dict(classes=('a', 'b', 'c'))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return dict(inputs=torch.tensor([float(i)]), index=i)

    def get_gt_labels(self):
        return self.labels


def _recording_model(record):
    from mmengine.model import BaseModel

    class ToyModel(BaseModel):

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, inputs, index=None, data_samples=None, mode='tensor'):
            record.extend(int(i) for i in index)
            loss = ((inputs * self.w - 1)**2).mean()
            return dict(loss=loss)

    return ToyModel()


def _run(work_dir, record, max_epochs=None, resume=False, load_from=None, ckpt_interval=4,
         by_epoch_ckpt=False, q=0.5, max_iters=None, seed=None, sampler=None):
    from mmengine.hooks import CheckpointHook
    from mmengine.runner import Runner

    from mmlt.engine.hooks import SamplerStateHook
    runner = Runner(
        model=_recording_model(record),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=IndexDataset(),
            sampler=sampler or dict(type='ClassPowerSampler', q=q),
            batch_size=4,
            num_workers=0,
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs) if max_iters is None else dict(
            by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            checkpoint=CheckpointHook(by_epoch=by_epoch_ckpt, interval=ckpt_interval),
            logger=dict(type='LoggerHook', interval=100)),
        custom_hooks=[SamplerStateHook()],
        randomness=dict(seed=seed),  # None: a random sampler seed, restored from the checkpoint
        resume=resume,
        load_from=load_from,
        default_scope='mmengine',
        experiment_name=f'{work_dir.parent.name}_{work_dir.name}')
    runner.train()
    return runner


def _sampler_state(path):
    return torch.load(path, weights_only=True)['sampler_state']


@pytest.mark.parametrize('q', [0.5, 1.0])
def test_hook_mid_epoch_resume_in_runner(tmp_path, q):
    # 30 samples, batch 4 -> 8 iterations per epoch (the last holds 2 samples);
    # iteration checkpoints every 4 iterations: iter_4, iter_8 (last iteration of epoch 0),
    # iter_12 (middle of epoch 1), iter_16
    part = []
    runner = _run(tmp_path / 'cut', part, max_epochs=2, q=q)
    assert len(part) == 60
    seed = runner.train_dataloader.sampler.seed
    # iter 12 = epoch 1 (0-based) with 4 of its 8 iterations done -> 4 * 4 samples consumed
    assert _sampler_state(tmp_path / 'cut' / 'iter_12.pth') == dict(
        epoch=1, seed=seed, consumed_samples=16, epoch_size=30)
    # iter 8 was saved in after_train_iter of epoch 0's last iteration: all of it consumed
    assert _sampler_state(tmp_path / 'cut' / 'iter_8.pth') == dict(
        epoch=0, seed=seed, consumed_samples=30, epoch_size=30)

    # the resumed run sees exactly what the interrupted run saw after iteration 12
    resumed = []
    _run(tmp_path / 'resumed', resumed, max_epochs=2, resume=True,
         load_from=str(tmp_path / 'cut' / 'iter_12.pth'), q=q)
    assert resumed == part[30 + 16:]

    resumed_8 = []
    _run(tmp_path / 'resumed8', resumed_8, max_epochs=2, resume=True,
         load_from=str(tmp_path / 'cut' / 'iter_8.pth'), q=q)
    assert resumed_8 == part[30:]

    # load_from without resume does not restore the sampler: a complete first epoch
    finetune = []
    _run(tmp_path / 'ft', finetune, max_epochs=1, load_from=str(tmp_path / 'cut' / 'iter_12.pth'),
         q=q)
    assert len(finetune) == 30 and finetune != part[46:]


def test_hook_mid_epoch_resume_class_aware(tmp_path):
    """The class-aware epoch (max count 18 x 3 classes = 54 samples, 14 iterations of 4) resumes
    mid-epoch like any other: the hook counts iterations of the longer epoch."""
    sampler = dict(type='ClassAwareSampler', num_samples_cls=2)
    part = []
    runner = _run(tmp_path / 'cut', part, max_epochs=2, sampler=sampler)
    assert len(part) == 2 * 54
    assert np.bincount(IndexDataset().labels[part[:54]]).tolist() == [18, 18, 18]
    seed = runner.train_dataloader.sampler.seed
    # iter 20 = epoch 1 with 6 of its 14 iterations done -> 24 samples consumed
    assert _sampler_state(tmp_path / 'cut' / 'iter_20.pth') == dict(
        epoch=1, seed=seed, consumed_samples=24, epoch_size=54)
    resumed = []
    _run(tmp_path / 'resumed', resumed, max_epochs=2, resume=True,
         load_from=str(tmp_path / 'cut' / 'iter_20.pth'), sampler=sampler)
    assert resumed == part[54 + 24:]


def test_hook_epoch_end_checkpoint(tmp_path):
    """An epoch-end save (meta epoch = epoch + 1) resumes the next epoch from its start."""
    part = []
    runner = _run(tmp_path / 'cut', part, max_epochs=2, ckpt_interval=1, by_epoch_ckpt=True)
    seed = runner.train_dataloader.sampler.seed
    assert _sampler_state(tmp_path / 'cut' / 'epoch_1.pth') == dict(
        epoch=1, seed=seed, consumed_samples=0, epoch_size=30)
    resumed = []
    _run(tmp_path / 'resumed', resumed, max_epochs=2, resume=True,
         load_from=str(tmp_path / 'cut' / 'epoch_1.pth'), by_epoch_ckpt=True)
    assert resumed == part[30:]


def test_hook_leaves_iter_based_loop_alone(tmp_path):
    """IterBasedTrainLoop replays ``iter`` batches itself on resume: the hook must not skip too."""
    part = []
    _run(tmp_path / 'cut', part, max_iters=7, ckpt_interval=3, seed=5)
    assert 'sampler_state' not in torch.load(tmp_path / 'cut' / 'iter_3.pth', weights_only=True)
    resumed = []
    _run(tmp_path / 'resumed', resumed, max_iters=7, ckpt_interval=3, seed=5, resume=True,
         load_from=str(tmp_path / 'cut' / 'iter_3.pth'))
    assert resumed == part[3 * 4:]


# ------------------------------------------------- per-sample seeds (worker-exact augmentation)
def test_sample_seeds_depend_on_seed_epoch_and_global_position_only(monkeypatch):
    from mmlt.datasets.samplers.sample_seed import SeededIndex
    ds = FakeLTDataset(counts=[30, 10, 4])

    def draw(world, rank, epoch=3, skip=0):
        monkeypatch.setattr(sampler_module, 'get_dist_info', lambda: (rank, world))
        s = ClassBalancedSampler(ds, seed=7)
        s.set_epoch(epoch)
        if skip:
            s.skip_once(skip)
        return list(s)

    single = draw(1, 0)
    assert all(isinstance(i, SeededIndex) for i in single)
    by_position = {p: (int(i), i.sample_seed) for p, i in enumerate(single)}
    for rank in range(2):  # the same sample at the same global position gets the same seed
        for k, i in enumerate(draw(2, rank)):
            assert (int(i), i.sample_seed) == by_position[2 * k + rank]
    tail = draw(1, 0, skip=10)  # a resumed epoch: the positions, not the restart, decide
    assert [(int(i), i.sample_seed) for i in tail] == [by_position[p] for p in range(10, 44)]
    assert len({i.sample_seed for i in single}) == len(single)
    assert {i.sample_seed for i in draw(1, 0, epoch=4)}.isdisjoint(by_position[p][1]
                                                                   for p in by_position)
    monkeypatch.setattr(sampler_module, 'get_dist_info', lambda: (0, 1))
    plain = ClassBalancedSampler(ds, seed=7, seed_samples=False)
    plain.set_epoch(3)
    assert [type(i) for i in plain] == [int] * 44 and list(plain) == [int(i) for i in single]


def test_seeded_samples_augment_the_same_with_and_without_workers(cifar10_jpeg_root):
    """A random crop + flip pipeline: the same SeededIndex gives the same pixels in the main
    process and in a worker process, and the main process's generators are left as they were."""
    import random

    from torch.utils.data import DataLoader

    from mmlt.datasets import CIFAR10LT
    from mmlt.datasets.samplers.sample_seed import SeededIndex
    ds = CIFAR10LT(data_root=str(cifar10_jpeg_root), split='train', indices=list(range(8)),
                   pipeline=[dict(type='LoadImageFromFile'),
                             dict(type='RandomCrop', crop_size=24),
                             dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                             dict(type='PackInputs')])
    idx = [SeededIndex(i % 8, 1000 + i) for i in range(16)]
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    before = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    main = [ds[i]['inputs'] for i in idx]
    assert torch.equal(torch.get_rng_state(), before[0])  # main-process streams untouched
    assert np.array_equal(np.random.get_state()[1], before[1]) and random.getstate() == before[2]
    loader = DataLoader(ds, batch_size=4, sampler=idx, num_workers=2, collate_fn=list)
    workers = [d['inputs'] for batch in loader for d in batch]
    assert all(torch.equal(a, b) for a, b in zip(main, workers))
    # the seed, not the index, decides the augmentation: 16 draws of 8 images are not all equal
    assert not all(torch.equal(main[i], main[i + 8]) for i in range(8))
    assert torch.equal(ds[SeededIndex(3, 5)]['inputs'], ds[SeededIndex(3, 5)]['inputs'])
