"""The trainer's fast path: batches drawn on the device, short-region attention, index-tensor rolls,
the learning-rate schedule across windows, and (PyTorch ≥ 2.2) bricks compiled one by one."""
import gzip
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from train import train
from train.dataset import EmojiData
from train.lego import LegoStack, attention, coords, roll
from train.tests.test_lego import small
from train.tests.test_train import build_fake

torch.set_num_threads(1)
COMPILES = hasattr(torch.nn.Module, "compile")
NO_COMPILE = f"torch.compile of modules needs PyTorch ≥ 2.2 (this is {torch.__version__})"


def batch_args(**kw):
    return SimpleNamespace(**{**dict(label_drop=0.0, group_drop=0.0, word_drop=0.0, crop64=0.0), **kw})


def test_batches_are_training_images_with_their_labels(tmp_path):
    build_fake(tmp_path)
    data = EmojiData(tmp_path / "data")
    b = train.Batcher(data, batch_args(), torch.Generator().manual_seed(0), torch.device("cpu"))
    x, y, c = b(64)
    assert x.shape == (64, 3, 32, 32) and y.shape == (64, data.label_dim) and c.shape == (1, 2, 32, 32)
    assert torch.equal(c[0], coords(32, 32))
    real = torch.from_numpy(data.x32[data.train_rows]).permute(0, 3, 1, 2).float() / 127.5 - 1
    labels = torch.from_numpy(data.labels(data.train_rows))
    seen = set()
    for xi, yi in zip(x, y):
        rows = ((real - xi).abs().amax(dim=(1, 2, 3)) == 0) & (labels == yi).all(1)  # this image with these labels
        assert rows.sum() == 1  # (the fake styles draw the same pixels: the labels tell them apart)
        seen.add(int(rows.nonzero()))
    assert seen == set(range(len(data.train_rows)))  # 64 draws over 4 rows reach all of them


def test_label_drops_zero_whole_vectors_groups_and_words(tmp_path):
    build_fake(tmp_path)
    data = EmojiData(tmp_path / "data")
    gen, cpu = torch.Generator().manual_seed(0), torch.device("cpu")
    lo, hi = data.label_groups()["words"]
    assert not train.Batcher(data, batch_args(label_drop=1.0), gen, cpu)(16)[1].any()
    y = train.Batcher(data, batch_args(word_drop=1.0), gen, cpu)(16)[1]
    assert not y[:, lo:hi].any() and (y[:, :lo].sum(1) == 2).all()  # a category and a style each
    y = train.Batcher(data, batch_args(group_drop=0.5), gen, cpu)(2000)[1]
    cat, style = data.label_groups()["category"], data.label_groups()["style"]
    for g0, g1 in (cat, style):  # each group kept in about half the draws (binomial, n 2000: sd 0.011)
        assert abs(float((y[:, g0:g1].sum(1) > 0).float().mean()) - 0.5) < 0.05


def test_crops_carry_their_coordinates_on_the_64x64_canvas(tmp_path):
    build_fake(tmp_path)
    data = EmojiData(tmp_path / "data")
    b = train.Batcher(data, batch_args(crop64=1.0), torch.Generator().manual_seed(0), torch.device("cpu"))
    x, _, c = b(32)
    assert c.shape == (32, 2, 32, 32)
    big = torch.from_numpy(data.x64[data.train_rows]).permute(0, 3, 1, 2).float() / 127.5 - 1
    offsets = set()
    for xi, ci in zip(x, c):
        r0, c0 = round((float(ci[0, 0, 0]) + 1) * 32 - 0.5), round((float(ci[1, 0, 0]) + 1) * 32 - 0.5)
        assert torch.allclose(ci, coords(32, 32, r0, c0, 64, 64))
        window = big[:, :, r0:r0 + 32, c0:c0 + 32]
        assert ((window - xi).abs().amax(dim=(1, 2, 3)) == 0).any()  # the window of a 64×64 image there
        offsets.add((r0, c0))
    assert len(offsets) > 16 and all(0 <= v <= 32 for o in offsets for v in o)


@pytest.mark.parametrize("tokens", [4, 64])
def test_attention_paths_agree_with_the_formula(tokens):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 2, tokens, 8, generator=g) for _ in range(3))
    qd, kd, vd = q.double(), k.double(), v.double()
    ref = torch.softmax(qd @ kd.transpose(-1, -2) / math.sqrt(8), -1) @ vd
    for short in (0, 16, 1000):  # SDPA where PyTorch has it and the sequence is longer than `short`
        assert torch.allclose(attention(q, k, v, short).double(), ref, atol=1e-5)


def test_roll_by_index_tensors_is_torch_roll():
    x = torch.randn(2, 3, 8, 16)
    for sy, sx in [(0, 0), (3, 5), (-2, 17), (7, 0)]:
        want = torch.roll(x, (sy, sx), dims=(2, 3))
        assert torch.equal(roll(x, sy, sx), want)
        assert torch.equal(roll(x, torch.tensor(sy), torch.tensor(sx)), want)


def test_brick_with_a_tensor_shift_equals_the_int_shift():
    m = small(label_dim=3, bricks=[dict(region=4, patch=2, depth=1)])
    with torch.no_grad():
        inp, silu_c = torch.randn(1, 5, 8, 8), torch.randn(1, 16)
        a = m.bricks[0](inp, silu_c, (1, 3))
        b = m.bricks[0](inp, silu_c, torch.tensor([1, 3]))
        assert torch.equal(a, b) and not torch.allclose(a, m.bricks[0](inp, silu_c, None))


def test_learning_rate_warms_up_stays_flat_and_cools_down_only_when_asked():
    a = SimpleNamespace(lr=5e-4, warmup=200, decay_images=float("inf"), cooldown=0.0)
    assert train.learning_rate(a, 9824, 9824, 5e6, 0.0) == pytest.approx(5e-4 / 200)  # fresh optimiser at step 9824
    assert train.learning_rate(a, 10100, 9824, 2e8, 0.99) == 5e-4  # flat: no decay with images, no end
    a.cooldown = 0.2
    assert train.learning_rate(a, 10100, 9824, 0, 0.5) == 5e-4
    assert train.learning_rate(a, 10100, 9824, 0, 0.9) == pytest.approx(2.5e-4)  # halfway down the last 20%
    assert train.learning_rate(a, 10100, 9824, 0, 1.0) == 0
    a.cooldown, a.decay_images = 0.0, 2e6
    assert train.learning_rate(a, 10100, 9824, 8e6, 0.0) == pytest.approx(2.5e-4)  # EDM2's 1/√(8/2) when asked


@pytest.mark.skipif(not COMPILES, reason=NO_COMPILE)
def test_compiled_bricks_match_eager_and_keep_one_graph_across_offsets():
    """Each brick compiled on its own: the same loss as eager, and random roll offsets (tensors)
    never recompile (error_on_recompile would raise)."""
    import torch._dynamo
    torch._dynamo.reset()
    eager = small(label_dim=3, bricks=[dict(region=4, patch=2, depth=1), dict(region=8, patch=2, depth=1)])
    cfg = eager.cfg
    compiled = LegoStack(cfg)
    compiled.load_state_dict(eager.state_dict())
    for b in compiled.bricks:
        b.compile()
    x, y = torch.rand(4, 3, 8, 8) * 2 - 1, torch.rand(4, 3)
    coord = coords(8, 8)[None]
    gen = torch.Generator().manual_seed(0)
    torch._dynamo.config.error_on_recompile = False
    try:
        for i in range(4):
            shifts = train.tiling_shifts(cfg.bricks, gen, p=1.0, canvas=8)
            seed = torch.Generator().manual_seed(i).initial_seed()
            le, _ = train.edm_loss(eager, x, y, coord, [0, 1], shifts, torch.Generator().manual_seed(seed))
            lc, _ = train.edm_loss(compiled, x, y, coord, [0, 1], shifts, torch.Generator().manual_seed(seed))
            lc.backward()
            # fused kernels sum in another order: float32 rounding, relative 1e-5 of a loss of order 1
            assert abs(float(lc.detach() - le.detach())) <= 1e-5 * abs(float(le.detach())), i
            torch._dynamo.config.error_on_recompile = True  # compiled at i = 0; later offsets must reuse it
    finally:
        torch._dynamo.config.error_on_recompile = False
    assert all(p.grad is not None for p in compiled.bricks.parameters())


@pytest.mark.skipif(not COMPILES, reason=NO_COMPILE)
def test_compiled_training_run_profiles_and_saves_its_compile_cache(tmp_path):
    build_fake(tmp_path)
    cache = tmp_path / "cache.bin"
    train.main(["--name", "c", "--preset", "tiny", "--data", str(tmp_path / "data"), "--runs", str(tmp_path / "runs"),
                "--batch", "4", "--threads", "2", "--no-bf16", "--warmup", "2", "--max-images", "64", "--compile",
                "--compile-cache-out", str(cache), "--profile-steps", "2", "--profile-after", "4"])
    report = (tmp_path / "runs" / "c" / "profile.txt").read_text()
    assert "compile True" in report and "images/s" in report and "Self CPU" in report  # the profiler's table
    loaded = torch.compiler.load_cache_artifacts(gzip.decompress(cache.read_bytes()))  # what the next machine does
    assert loaded.artifacts["inductor"] and loaded.artifacts["aot_autograd"]
    ck = torch.load(tmp_path / "runs" / "c" / "ckpt.pt")
    assert ck["state"]["images"] == 64 and np.isfinite(float(ck["model"]["bricks.2.final.linear.weight"].sum()))
