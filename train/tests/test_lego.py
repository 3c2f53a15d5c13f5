import json

import numpy as np
import pytest
import torch

from train import fixtures
from train.export import export, load, read_safetensors
from train.lego import LegoConfig, LegoStack, coords, edit_steps, edm_sigmas, sample, pos_embed_2d

torch.set_num_threads(1)


def small(label_dim=6, **kw):
    cfg = dict(d=16, heads=2, label_dim=label_dim,
               bricks=[dict(region=4, patch=2, depth=1), dict(region=8, patch=4, depth=1)])
    cfg.update(kw)
    torch.manual_seed(0)
    m = LegoStack(LegoConfig(**cfg))
    with torch.no_grad():  # adaLN-Zero starts at zero; randomise so every path matters
        for p in m.parameters():
            p.normal_(0, 0.3)
    return m.eval()


def test_tile_untile_inverse_on_non_square_canvas():
    m = small()
    x = torch.randn(2, 5, 8, 16)
    t = m.bricks[1].tile(x)
    assert t.shape == (2, 2, 4, 5 * 16)  # 2 regions of 8×8, 4 patches of 4×4
    # token 1 of region 1 is the patch at rows 0..3, cols 12..15, channel-major
    assert torch.equal(t[0, 1, 1], x[0, :, 0:4, 12:16].reshape(-1))
    assert torch.equal(m.bricks[1].untile(t, 8, 16), x)


def test_pos_embed_columns_then_rows():
    pe = pos_embed_2d(3, 8)  # q = 2, ω = [1, 0.01]
    tx, ty = 2, 1
    row = pe[ty * 3 + tx]
    expect = torch.tensor([np.sin(2), np.sin(0.02), np.cos(2), np.cos(0.02),
                           np.sin(1), np.sin(0.01), np.cos(1), np.cos(0.01)], dtype=torch.float32)
    assert torch.allclose(row, expect, atol=1e-6)


def test_fresh_model_is_identity_preconditioning():
    """adaLN-Zero and a zero final layer: F = 0 so D = c_skip·x for every brick."""
    m = LegoStack(LegoConfig(d=16, heads=2, label_dim=3, bricks=[dict(region=4, patch=2, depth=1)] * 2))
    x, sigma = torch.randn(1, 3, 8, 8), torch.tensor([2.0])
    for _, D in m(x, sigma, torch.zeros(1, 3)):
        assert torch.allclose(D, x * 0.25 / (4 + 0.25))


def test_skipping_passes_last_active_output_up():
    m = small()
    x, sigma, y = torch.randn(1, 3, 8, 8), torch.tensor([1.5]), torch.rand(1, 6)
    with torch.no_grad():
        full = m(x, sigma, y)
        only_top = m(x, sigma, y, active=[1])
        # by hand: brick 1 alone gets a zero F_prev
        s = 1.5
        c_in, c_skip, c_out = 1 / (s * s + 0.25) ** 0.5, 0.25 / (s * s + 0.25), s * 0.5 / (s * s + 0.25) ** 0.5
        silu_c = torch.nn.functional.silu(m.condition(sigma, y))
        base = torch.cat([c_in * x, coords(8, 8)[None]], dim=1)
        f1 = m.bricks[1](torch.cat([torch.zeros_like(x), base], 1), silu_c)
    assert [k for k, _ in only_top] == [1]
    assert torch.allclose(only_top[0][1], c_skip * x + c_out * f1, atol=1e-5)
    assert not torch.allclose(full[1][1], only_top[0][1], atol=1e-3)


def test_bricks_are_local_to_their_regions():
    """On a canvas two regions wide, each region's output depends only on that region."""
    m = small(bricks=[dict(region=4, patch=2, depth=1)])
    x, sigma, y = torch.randn(1, 3, 4, 8), torch.tensor([1.0]), torch.rand(1, 6)
    with torch.no_grad():
        a = m(x, sigma, y)[0][1]
        x2 = x.clone()
        x2[..., 4:] = torch.randn(1, 3, 4, 4)
        b = m(x2, sigma, y)[0][1]
    assert torch.allclose(a[..., :4], b[..., :4], atol=1e-6)
    assert not torch.allclose(a[..., 4:], b[..., 4:], atol=1e-3)


def test_shifted_tiling_equals_rolled_canvas():
    m = small()
    x, sigma, y = torch.randn(1, 3, 8, 16), torch.tensor([0.8]), torch.rand(1, 6)
    with torch.no_grad():
        shifted = m(x, sigma, y, shift=(2, 6))[-1][1]
        coord = coords(8, 16)[None]
        rolled = m(torch.roll(x, (-2, -6), (2, 3)), sigma, y, coord=torch.roll(coord, (-2, -6), (2, 3)))[-1][1]
    assert torch.allclose(shifted, torch.roll(rolled, (2, 6), (2, 3)), atol=1e-5)


def test_crop_coordinates_are_a_subrange_of_the_canvas():
    full = coords(64, 64)
    crop = coords(32, 32, 16, 8, 64, 64)
    assert torch.equal(crop, full[:, 16:48, 8:40])
    assert float(full.min()) == pytest.approx(-63 / 64) and float(full.max()) == pytest.approx(63 / 64)


class PointDenoiser:
    """The ideal denoiser of a one-image dataset: D(x; σ) = y0 for every σ."""

    def __init__(self, y0):
        self.y0 = y0

    def denoise(self, x, sigma, labels, active=None, shift=(0, 0)):
        return self.y0.expand_as(x)


@pytest.mark.parametrize("heun", [True, False])
def test_sampler_reaches_the_data_point(heun):
    y0 = torch.rand(1, 3, 4, 4) * 2 - 1
    traj = sample(PointDenoiser(y0), torch.randn(2, 3, 4, 4), torch.zeros(2, 1), steps=5, cfg_scale=1.5, heun=heun)
    assert len(traj) == 6
    assert torch.allclose(traj[-1], y0.expand(2, -1, -1, -1), atol=1e-5)


def test_edit_steps_round_half_up():
    assert [edit_steps(18, s) for s in (0, 0.02, 0.03, 0.5, 0.6, 1)] == [0, 0, 1, 9, 11, 18]
    assert edit_steps(4, 0.625) == 3  # 2.5 + ½ → 3 (Python's round() would give 2)


@pytest.mark.parametrize("heun", [True, False])
def test_edit_runs_the_last_steps_from_the_noised_start(heun):
    m, y = small(), torch.rand(3, 8, 8) * 2 - 1
    noise, labels = torch.randn(2, 3, 8, 8), torch.rand(2, 6)
    assert torch.equal(sample(m, noise, labels, steps=5, heun=heun, start=y, strength=0)[-1], y.expand(2, -1, -1, -1))
    traj = sample(m, noise, labels, steps=5, heun=heun, start=y, strength=0.6)  # the last 3 of 5 steps
    assert len(traj) == 4 and torch.equal(traj[0], noise * float(edm_sigmas(5)[2]) + y)
    full = sample(m, noise, labels, steps=5, heun=heun, start=y, strength=1)
    assert len(full) == 6 and torch.equal(full[0], noise * 80.0 + y)


@pytest.mark.parametrize("resample", [1, 2])
def test_repaint_keeps_unmasked_pixels_and_redraws_masked_ones(resample):
    m, y, noise = small(), torch.rand(3, 8, 8) * 2 - 1, torch.randn(2, 3, 8, 8)
    mask = torch.zeros(8, 8)
    mask[2:6, 3:7] = 1
    traj = sample(m, noise, torch.rand(2, 6), steps=4, cfg_scale=2.0, start=y, strength=1, mask=mask,
                  resample=resample, generator=torch.Generator().manual_seed(0))
    keep = mask == 0
    for x, s in zip(traj, edm_sigmas(4)):  # unmasked: on the noised start's trajectory, exactly, ending on it
        assert torch.equal(x[:, :, keep], (y + float(s) * noise)[:, :, keep])
    assert torch.equal(traj[-1][:, :, keep], y[:, keep].expand(2, -1, -1))
    assert (traj[-1][:, :, ~keep] - y[:, ~keep]).abs().mean() > 0.05  # the model redrew the masked ones


def test_edm_sigmas():
    t = edm_sigmas(18)
    assert len(t) == 19 and float(t[0]) == pytest.approx(80) and float(t[17]) == pytest.approx(0.002) and t[18] == 0
    assert torch.all(t[1:] < t[:-1])


def test_export_round_trip(tmp_path):
    m = small()
    labels = {"categories": ["a"], "styles": ["s"], "vocab": ["w"], "groups": {}}
    x, sigma, y = torch.randn(2, 3, 8, 16), torch.tensor([0.5, 4.0]), torch.rand(2, 6)
    with torch.no_grad():
        ref = m(x, sigma, y)
        for dtype, tol in [("F32", 0), ("F16", 5e-2)]:
            meta = export(m, labels, tmp_path / dtype, "t", dtype)
            back, meta2 = load(tmp_path / dtype)
            assert meta2 == json.loads(json.dumps(meta)) and meta["dtype"] == dtype
            out = back(x, sigma, y)
            for (k, a), (_, b) in zip(ref, out):
                assert (a - b).abs().max() <= tol, (dtype, k)
    bad = tmp_path / "F32" / "weights.safetensors"
    bad.write_bytes(bad.read_bytes()[:-4] + b"\0\0\0\1")
    with pytest.raises(ValueError, match="SHA-256"):
        load(tmp_path / "F32")


@pytest.mark.parametrize("name", ["tiny", *fixtures.STACKS, fixtures.COVER])
def test_fixtures_regenerate_identically(tmp_path, name):
    """Inputs and weights must be bit-identical; outputs may differ by float rounding only.

    The reference's outputs depend on the BLAS build and thread count (summation order), and
    heun.x* holds values up to ±80 (x at σ = 80), so an absolute tolerance would test the machine.
    Each output tensor is compared with a tolerance scaled to its own magnitude, 1e-4·max|t| (about
    800 fp32 ulps of its largest value); fixtures made on another machine were measured here at
    ≤ 1.5e-5·max|t| (heun.x2/x3: 3e-4 on values up to 20) with 1 and 2 threads alike. A change of
    the math moves outputs by whole percents.
    """
    committed = fixtures.OUT if name == "tiny" else fixtures.STACKS_OUT / name
    assert (committed / "golden.json").exists(), f"fixtures missing: run {fixtures.REGEN}"
    meta = json.loads((committed / "golden.json").read_text())
    assert meta["version"] == fixtures.VERSION, f"stale fixtures: run {fixtures.REGEN}"
    if name == "tiny":
        fixtures.generate(tmp_path)
    elif name == fixtures.COVER:
        fixtures.generate_cover(tmp_path)
    else:
        bricks, canvas = fixtures.STACKS[name]
        fixtures.generate(tmp_path, name, bricks, canvas)
    assert (tmp_path / "weights.safetensors").read_bytes() == (committed / "weights.safetensors").read_bytes()
    new, old = read_safetensors(tmp_path / "golden.safetensors"), read_safetensors(committed / "golden.safetensors")
    assert new.keys() == old.keys()
    inputs = {"x", "sigma", "labels", "heun.noise", "heun.x0"}  # drawn from seeded generators, no arithmetic
    for k in new:
        if k.split(".", 1)[-1] in inputs or k in inputs:  # cover-16's keys start with their canvas
            assert np.array_equal(new[k], old[k]), f"{k}: inputs changed, run {fixtures.REGEN}"
        else:
            scale = float(np.abs(old[k]).max())
            err = float(np.abs(new[k] - old[k]).max())
            assert err <= 1e-4 * scale, f"{k}: max |Δ| {err:.2e} > 1e-4·{scale:.1f}: run {fixtures.REGEN}"

def test_edit_fixture_regenerates_identically(tmp_path):
    """As above, for the edit trajectories (edit.safetensors): inputs bit-identical, states within 1e-4·max|t|."""
    meta = json.loads((fixtures.OUT / "edit.json").read_text())
    assert meta["version"] == fixtures.EDIT_VERSION, f"stale edit fixtures: run {fixtures.REGEN}"
    fixtures.generate_edit(tmp_path)
    new, old = read_safetensors(tmp_path / "edit.safetensors"), read_safetensors(fixtures.OUT / "edit.safetensors")
    assert new.keys() == old.keys()
    for k in new:
        if k in {"start", "mask", "noise", "labels"}:
            assert np.array_equal(new[k], old[k]), f"{k}: inputs changed, run {fixtures.REGEN}"
        else:
            scale = float(np.abs(old[k]).max())
            assert float(np.abs(new[k] - old[k]).max()) <= 1e-4 * scale, f"{k}: run {fixtures.REGEN}"


def test_flops_match_a_hand_count():
    """Brick 0 of the tiny fixture on 16×16: the count test/model/arch.test.ts checks in the engine."""
    cfg = LegoConfig(d=32, heads=2, bricks=[dict(region=4, patch=2, depth=1)])
    embed = 64 * (5 * 4 * 32 + 32 * 32)  # Linear(Cin·p², d) + Linear(d, d) over 64 tokens
    block = 64 * (3 * 32 * 32 + 32 * 32 + 2 * 4 * 32 * 32) + 2 * 64 * 4 * 32  # qkv, proj, MLP; q·kᵀ, a·v (T = 4)
    final = 64 * 32 * 3 * 4  # Linear(d, 3p²)
    assert cfg.flops(16, 16) == 2 * (embed + block + final)
