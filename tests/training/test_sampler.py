"""Shape-grouped batches: every index once per epoch, homogeneous batches, reproducible per (seed, epoch)."""

from slip_sensor.training.sampler import ShapeGroupedSampler


def test_batches_group_shapes_and_cover_every_index():
    keys = [(i % 3) * 1_000_000 + (i * 7) % 50 for i in range(230)]
    sampler = ShapeGroupedSampler(keys, batch_size=8, seed=0, mega_batches=10)
    order = list(sampler)
    assert sorted(order) == list(range(230))
    batches = [order[i : i + 8] for i in range(0, 224, 8)]
    channel_mixes = sum(len({keys[j] // 1_000_000 for j in batch}) > 1 for batch in batches)
    assert channel_mixes <= len(batches) // 4, "batches should mostly hold one channel count"
    assert order == list(ShapeGroupedSampler(keys, batch_size=8, seed=0, mega_batches=10))
    sampler.set_epoch(1)
    assert list(sampler) != order
