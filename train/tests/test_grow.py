import pytest
import torch

from train.dataset import ROOT
from train.export import load
from train.grow import grow, interleave
from train.lego import ROLLED, LegoConfig, LegoStack
from train.tests.test_lego import small
from train.train import PRESETS

SHIPPED = ROOT / "public" / "models" / "lego-emoji-32"
torch.set_num_threads(1)


def test_interleave_spreads_copies_after_the_blocks_they_copy():
    assert interleave(6, 12) == [(i, own) for i in range(6) for own in (True, False)]
    plan = interleave(6, 14)
    assert [i for i, own in plan if own] == list(range(6))  # the trained blocks keep their order
    assert sum(not own for _, own in plan) == 8
    assert all(plan[j - 1][0] == i for j, (i, own) in enumerate(plan) if not own)  # each copy follows its block
    assert max(sum(1 for i, own in plan if i == k and not own) for k in range(6)) == 2  # evenly: 1 or 2 each
    assert interleave(2, 2) == [(0, True), (1, True)]
    with pytest.raises(ValueError, match="from 6 blocks to 4"):
        interleave(6, 4)


def test_lego_s14_grown_from_the_shipped_lego_s_computes_what_it_computes():
    """The shipped lego-s weights grown into lego-s14: every brick's D_k equal at step 0, on the
    training canvas and on a shifted panorama (the added blocks are exact identities: x + 0·f(x))."""
    shipped, meta = load(SHIPPED)
    assert meta["training"]["preset"] == "lego-s"
    cfg = LegoConfig(**PRESETS["lego-s14"], label_dim=shipped.cfg.label_dim)
    big = grow(shipped, cfg).eval()
    assert [b.depth for b in big.cfg.bricks] == [2, 2, 14]
    g = torch.Generator().manual_seed(0)
    for h, w, shift in [(32, 32, None), (32, 64, (16, 16))]:
        x = torch.randn(2, 3, h, w, generator=g)
        sigma = torch.tensor([0.4, 3.0])
        y = (torch.rand(2, cfg.label_dim, generator=g) < 0.02).float()
        with torch.no_grad():
            ref, out = shipped(x, sigma, y, shift=shift), big(x, sigma, y, shift=shift)
        for (k, a), (_, b) in zip(ref, out):
            # the same operations on the same numbers: equal up to float rounding of summation order (1e-6
            # against values of order 1; in practice bit-equal)
            assert (a - b).abs().max() <= 1e-6, (h, w, k)


def test_added_blocks_learn_from_the_first_step():
    """A copy's gates are zero, but their gradient is the copied branch's output: training moves them."""
    m = small(label_dim=3, bricks=[dict(region=8, patch=2, depth=1)])
    big = grow(m, LegoConfig(d=16, heads=2, label_dim=3, bricks=[dict(region=8, patch=2, depth=2)]))
    x, sigma, y = torch.randn(2, 3, 8, 8), torch.tensor([0.5, 2.0]), torch.rand(2, 3)
    big(x, sigma, y)[0][1].pow(2).mean().backward()
    added = big.bricks[0].blocks[1]
    gate_rows = torch.cat([added.adaln.weight.grad[32:48], added.adaln.weight.grad[80:96]])
    assert gate_rows.abs().max() > 1e-4
    assert added.attn.qkv.weight.grad.abs().max() == 0  # behind a zero gate until the gate moves


@pytest.mark.parametrize("change, message", [(dict(d=32, heads=2), "d 16 ≠ 32"),
                                             (dict(bricks=[dict(region=8, patch=4, depth=2)]), "brick 0 is 8/2/1"),
                                             (dict(bricks=[dict(region=8, patch=2, depth=1)] * 2), "1 bricks ≠ 2")])
def test_only_a_deeper_stack_of_the_same_shape_grows(change, message):
    m = LegoStack(LegoConfig(d=16, heads=2, label_dim=3, bricks=[dict(region=8, patch=2, depth=1)]))
    cfg = dict(d=16, heads=2, label_dim=3, bricks=[dict(region=8, patch=2, depth=2)])
    with pytest.raises(ValueError, match=message):
        grow(m, LegoConfig(**{**cfg, **change}))


def test_a_64_brick_added_to_the_shipped_lego_s_leaves_it_unchanged_where_the_brick_does_not_fit():
    """lego-s64 grown from the shipped lego-s: on 32-pixel sides the new brick is inactive and the model is
    the shipped one, bit for bit; at 64×64 the bricks below compute what they did, and the new brick starts
    as a denoiser that has learnt nothing (D = c_skip·x, its final layer being zero)."""
    shipped, _ = load(SHIPPED)
    cfg = LegoConfig(**PRESETS["lego-s64"], label_dim=shipped.cfg.label_dim)
    big = grow(shipped, cfg).eval()
    g = torch.Generator().manual_seed(0)
    sigma = torch.tensor([0.4, 3.0])
    y = (torch.rand(2, cfg.label_dim, generator=g) < 0.02).float()
    for h, w, shift in [(32, 32, None), (32, 64, ROLLED)]:
        x = torch.randn(2, 3, h, w, generator=g)
        with torch.no_grad():
            ref, out = shipped(x, sigma, y, shift=shift), big(x, sigma, y, shift=shift)
        assert [k for k, _ in out] == [0, 1, 2] and all(torch.equal(a, b) for (_, a), (_, b) in zip(ref, out))
    x = torch.randn(2, 3, 64, 64, generator=g)
    with torch.no_grad():
        ref, out = shipped(x, sigma, y), big(x, sigma, y)
    assert all(torch.equal(a, b) for (_, a), (_, b) in zip(ref, out[:3]))
    c_skip = (0.25 / (sigma ** 2 + 0.25))[:, None, None, None]
    assert out[3][0] == 3 and torch.allclose(out[3][1], c_skip * x)


def test_only_bricks_larger_than_the_canvas_unit_are_added():
    m = LegoStack(LegoConfig(d=16, heads=2, label_dim=3, bricks=[dict(region=8, patch=2, depth=1)]))
    with pytest.raises(ValueError, match="regions larger than the canvas unit 8"):
        grow(m, LegoConfig(d=16, heads=2, label_dim=3, bricks=[dict(region=8, patch=2, depth=1)] * 2))
    big = grow(m, LegoConfig(d=16, heads=2, label_dim=3, canvas_unit=8,
                             bricks=[dict(region=8, patch=2, depth=1), dict(region=16, patch=4, depth=1)]))
    assert torch.equal(big.bricks[0].patch[0].weight, m.bricks[0].patch[0].weight)
