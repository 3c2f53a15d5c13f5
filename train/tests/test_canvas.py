"""Bricks on canvases other than their training size: inactive where the region does not fit, overlapping
regions where a side is not a multiple of it, and the rolled tiling of the sampler's odd steps."""
import pytest
import torch

from train.lego import ROLLED, LegoConfig, LegoStack, coords, fits, region_origins, rolled_shifts
from train.train import PRESETS

torch.set_num_threads(1)


def randomised(cfg):
    torch.manual_seed(0)
    m = LegoStack(cfg)
    with torch.no_grad():  # adaLN-Zero starts at zero; randomise so every path matters
        for p in m.parameters():
            p.normal_(0, 0.3)
    return m.eval()


def with_top(bricks, top, unit):
    return LegoConfig(d=16, heads=2, label_dim=4, bricks=bricks + [top], canvas_unit=unit)


LOWER = [dict(region=4, patch=2, depth=1), dict(region=8, patch=4, depth=1)]
TOP = dict(region=16, patch=4, depth=1)


@pytest.mark.parametrize("side, region, patch, expected", [
    (64, 64, 4, [0]), (128, 64, 4, [0, 64]), (96, 64, 4, [0, 32]), (160, 64, 4, [0, 48, 96]),
    (40, 16, 4, [0, 12, 24]), (24, 16, 4, [0, 8]), (32, 4, 2, [0, 4, 8, 12, 16, 20, 24, 28]),
])
def test_region_origins_tile_multiples_and_cover_the_rest_evenly(side, region, patch, expected):
    origins = region_origins(side, region, patch)
    assert origins == expected
    assert origins[0] == 0 and origins[-1] == side - region and all(o % patch == 0 for o in origins)
    covered = torch.zeros(side, dtype=torch.long)
    for o in origins:
        covered[o:o + region] += 1
    assert covered.min() >= 1 and len(origins) == -(-side // region)


def test_every_side_multiple_of_the_patch_is_covered_without_gaps():
    for region, patch in [(64, 4), (16, 4), (32, 2)]:
        for side in range(region, 8 * region + 1, patch):
            o = region_origins(side, region, patch)
            gaps = [b - a for a, b in zip(o, o[1:])]
            assert all(0 < g <= region for g in gaps) and o[-1] == side - region, (region, side)


def test_unit_is_the_largest_region_unless_declared():
    assert LegoConfig(**PRESETS["lego-s"]).canvas_unit == 32
    cfg = LegoConfig(**PRESETS["lego-s64"])
    assert cfg.canvas_unit == 32 and cfg.max_region == 64
    with pytest.raises(ValueError, match="canvas_unit 24 is the region of no brick"):
        LegoConfig(bricks=LOWER + [TOP], canvas_unit=24)
    with pytest.raises(ValueError, match="canvas_unit 4 must be a multiple of every patch"):
        LegoConfig(bricks=[dict(region=4, patch=2, depth=1), dict(region=8, patch=8, depth=1)], canvas_unit=4)


def test_rolled_shifts_keep_todays_tiling_for_lego_s_and_never_roll_a_covered_side():
    s = LegoConfig(**PRESETS["lego-s"])  # regions 4, 16, 32
    # today's engines shift every brick by half the largest region (16): a no-op for regions 4 and 16
    assert rolled_shifts(s, 64, 64) == [(0, 0), (0, 0), (16, 16)]
    assert rolled_shifts(s, 128, 128) == [(0, 0), (0, 0), (16, 16)]
    assert rolled_shifts(s, 32, 32) == [(0, 0)] * 3
    assert rolled_shifts(s, 32, 64) == [(0, 0), (0, 0), (0, 16)]  # its one row of regions is not rolled
    big = LegoConfig(**PRESETS["lego-s64"])  # regions 4, 16, 32, 64
    assert rolled_shifts(big, 32, 32) == [(0, 0)] * 3 + [None]  # brick 4 is inactive
    assert rolled_shifts(big, 32, 64) == [(0, 0), (0, 0), (0, 16), None]  # brick 3 is the largest that runs
    assert rolled_shifts(big, 64, 64) == [(0, 0)] * 4
    assert rolled_shifts(big, 64, 128) == [(0, 0), (0, 0), (0, 0), (0, 32)]
    assert rolled_shifts(big, 96, 96) == [(0, 0)] * 4  # overlapping regions: no shift


def test_a_brick_larger_than_the_canvas_is_inactive_and_the_stack_below_is_unchanged():
    big = randomised(with_top(LOWER, TOP, 8))
    small = LegoStack(LegoConfig(d=16, heads=2, label_dim=4, bricks=LOWER))
    small.load_state_dict({k: v for k, v in big.state_dict().items() if not k.startswith("bricks.2.")})
    x, sigma, y = torch.randn(2, 3, 8, 16), torch.tensor([0.5, 2.0]), torch.rand(2, 4)
    assert not fits(16, 8, 16)
    with torch.no_grad():
        a, b = big(x, sigma, y), small.eval()(x, sigma, y)
        assert [k for k, _ in a] == [0, 1]
        assert all(torch.equal(p, q) for (_, p), (_, q) in zip(a, b))
        assert torch.equal(big(x, sigma, y, active=[1, 2])[0][1], small(x, sigma, y, active=[1])[0][1])
        for shift in [ROLLED, (0, 4)]:
            assert torch.equal(big.denoise(x, sigma, y, shift=shift), small.denoise(x, sigma, y, shift=shift))
        with pytest.raises(ValueError, match="no active brick runs on a 8×16 canvas"):
            big(x, sigma, y, active=[2])


def regions_by_hand(brick, inp, silu_c, origins_y, origins_x):
    """Each overlapping region run on its own (its crop, with the canvas's coordinates), then every pixel the
    mean of the regions that cover it."""
    B, _, H, W = inp.shape
    out, count = torch.zeros(B, 3, H, W), torch.zeros(H, W)
    r = brick.r
    for oy in origins_y:
        for ox in origins_x:
            out[..., oy:oy + r, ox:ox + r] += brick.regions(inp[..., oy:oy + r, ox:ox + r], silu_c)
            count[oy:oy + r, ox:ox + r] += 1
    return out / count


@pytest.mark.parametrize("H, W", [(24, 40), (16, 24), (24, 16)])
def test_overlapping_regions_are_averaged(H, W):
    m = randomised(with_top(LOWER, TOP, 8))
    brick = m.bricks[2]
    inp = torch.cat([torch.randn(2, 6, H, W), coords(H, W)[None].expand(2, -1, -1, -1)], dim=1)
    silu_c = torch.randn(2, 16)
    with torch.no_grad():
        got = brick(inp, silu_c)
        ref = regions_by_hand(brick, inp, silu_c, region_origins(H, 16, 4), region_origins(W, 16, 4))
    assert torch.allclose(got, ref, atol=1e-5)


def test_a_covered_side_never_shifts_and_a_tiled_one_rolls():
    """24×32: rows covered by regions at 0 and 8, columns two regions rolled by 8 (the rolled tiling)."""
    m = randomised(with_top(LOWER, TOP, 8))
    brick = m.bricks[2]
    inp = torch.cat([torch.randn(1, 6, 24, 32), coords(24, 32)[None]], dim=1)
    silu_c = torch.randn(1, 16)
    with torch.no_grad():
        got = brick(inp, silu_c, (5, 8))  # the 5 along the covered side is ignored
        rolled = torch.roll(inp, -8, 3)
        ref = torch.roll(regions_by_hand(brick, rolled, silu_c, [0, 8], [0, 16]), 8, 3)
        assert torch.allclose(got, ref, atol=1e-5)
        assert torch.allclose(brick.covered(inp[..., :16, :], silu_c, (0, 8)), brick(inp[..., :16, :], silu_c, (0, 8)),
                              atol=1e-5)  # the gather path on whole regions is the roll path


def test_flops_count_inactive_bricks_as_nothing_and_overlaps_as_extra_tokens():
    big, s = LegoConfig(**PRESETS["lego-s64"]), LegoConfig(**PRESETS["lego-s"])
    assert big.flops(32, 32) == s.flops(32, 32)
    top = big.flops(64, 64, only=[3])
    assert big.flops(64, 64) == s.flops(64, 64) + top
    assert big.flops(96, 96, only=[3]) == 4 * top  # 2×2 regions of 64 on 96×96
