"""Training at 64×64: the 64×64 copy of the data, and a brick of 64×64 regions grown on top of an
exported stack and trained on the 64×64 renders with the bricks below frozen or at a lower rate."""
import subprocess
import sys

import numpy as np
import torch

from train import dataset, train
from train.export import load
from train.tests.test_train import build_fake

COMMON = ["--batch", "8", "--threads", "1", "--no-bf16", "--warmup", "2", "--log-every", "2"]


def test_the_64px_copy_holds_the_training_images_without_loss_and_nothing_held_out(tmp_path):
    build_fake(tmp_path)
    dataset.copy_64(tmp_path / "data", tmp_path / "d64")
    full, d = dataset.EmojiData(tmp_path / "data"), dataset.EmojiData(tmp_path / "d64")
    rows = full.train_rows
    assert not d.held.any() and len(d.cat) == len(rows) < len(full.cat)  # the fake data holds one emoji out
    assert np.array_equal(d.x64, full.x64[rows])
    assert np.array_equal(d.labels(np.arange(len(rows))), full.labels(rows))
    assert d.info["names"] == [full.info["names"][r] for r in rows]
    assert "x32" not in np.load(tmp_path / "d64" / "emoji.npz").files  # x32 is not stored…
    assert np.abs(d.x32.astype(int) - full.x32[rows]).max() <= 1  # …but derived: rounded twice, 1/255 at most


def exported_tiny(tmp_path):
    """A tiny stack trained for 4 steps at 32×32 and exported (F32), as the shipped model would be."""
    build_fake(tmp_path)
    train.main(["--name", "small", "--preset", "tiny", "--data", str(tmp_path / "data"), "--runs",
                str(tmp_path / "runs"), "--max-images", "32"] + COMMON)
    subprocess.run([sys.executable, "-m", "train.export", "--run", str(tmp_path / "runs" / "small"), "--out",
                    str(tmp_path / "init"), "--dtype", "F32"], check=True, cwd=dataset.ROOT, capture_output=True)
    dataset.copy_64(tmp_path / "data", tmp_path / "d64")
    return load(tmp_path / "init")[0]


def train64(tmp_path, name, *extra):
    train.main(["--name", name, "--preset", "tiny-64", "--canvas", "64", "--init", str(tmp_path / "init"),
                "--data", str(tmp_path / "d64"), "--runs", str(tmp_path / "runs"), "--max-images", "64"]
               + COMMON + list(extra))
    return torch.load(tmp_path / "runs" / name / "ckpt.pt")


def test_a_64_brick_trains_on_a_frozen_stack_and_the_model_at_32_stays_what_it_was(tmp_path):
    """The pipeline end to end on the CPU: export a 3-brick stack, grow a 64×64 brick on it, train it at 64×64
    from the 64×64 copy, export, load; at 32×32 the result is the exported stack, bit for bit."""
    init = exported_tiny(tmp_path)
    ck = train64(tmp_path, "frozen")
    assert ck["state"]["images"] == 64 and ck["state"]["grown"][0]["depths"] == [1, 1, 1]
    before = init.state_dict()
    for k, v in ck["model"].items():
        same = torch.equal(v, before[k]) if k in before else False
        assert same == (not k.startswith("bricks.3.")), k  # only the new brick moved
    subprocess.run([sys.executable, "-m", "train.export", "--run", str(tmp_path / "runs" / "frozen"), "--out",
                    str(tmp_path / "m64"), "--dtype", "F32"], check=True, cwd=dataset.ROOT, capture_output=True)
    model, meta = load(tmp_path / "m64")
    assert meta["architecture"]["canvas_unit"] == 16 and meta["training"]["canvas"] == 64
    assert meta["training"]["lower_lr"] == 0
    x, s, y = torch.randn(2, 3, 32, 32), torch.tensor([0.5, 2.0]), torch.rand(2, 5)
    with torch.no_grad():
        assert torch.equal(model.denoise(x, s, y), init.denoise(x, s, y))
        assert len(model(torch.randn(1, 3, 64, 64), s[:1], y[:1])) == 4


def test_lower_lr_trains_the_stack_below_at_a_fraction_of_the_rate(tmp_path):
    init = exported_tiny(tmp_path)
    ck = train64(tmp_path, "slow", "--lower-lr", "0.1")
    moved = {k for k, v in ck["model"].items() if k in init.state_dict() and not torch.equal(v, init.state_dict()[k])}
    assert any(k.startswith("bricks.0.") for k in moved) and "t_embed.0.weight" in moved
    assert [g["lr_scale"] for g in torch.load(tmp_path / "runs" / "slow" / "ckpt.pt")["opt"]["param_groups"]] == [1, 0.1]
