import numpy as np
import pytest
import torch

from train import dataset
from train.eval import held_out_emoji, nearest_distances, seam
from train.judge import images
from train.tests.test_train import build_fake


def test_nearest_distances_against_brute_force(tmp_path):
    build_fake(tmp_path)
    d = dataset.EmojiData(tmp_path / "data")
    train = d.x32[d.train_rows].transpose(0, 3, 1, 2).reshape(len(d.train_rows), -1).astype(np.float64)  # NCHW
    q = torch.cat([images(d, d.train_rows[:2]), torch.zeros(1, 3, 32, 32), torch.full((1, 3, 32, 32), 0.3)])
    near, near_real = nearest_distances(q, d)
    # reference: RMS over pixels of (q − train) in 0–255 units, minimum over the training images
    qa = ((q.flatten(1).double().numpy() + 1) * 127.5)[:, None]
    ref = np.sqrt(((qa - train[None]) ** 2).mean(-1)).min(1)
    assert near[:2] == pytest.approx([0, 0], abs=0.1)  # a training image is its own nearest (float32 cdist)
    assert near == pytest.approx(ref, rel=1e-4, abs=0.1)
    assert len(near_real) == d.held.sum()


def test_the_32px_copy_loads_without_64px_images(tmp_path):
    """train/gpu.sh carries a 32×32-only copy of the data: it loads, and asking for 64×64 crops names the problem."""
    build_fake(tmp_path)
    dataset.copy_32(tmp_path / "data", tmp_path / "slim")
    full, d = dataset.EmojiData(tmp_path / "data"), dataset.EmojiData(tmp_path / "slim")
    assert (d.x32 == full.x32).all() and (d.words == full.words).all() and (d.held == full.held).all()
    assert d.info == full.info
    with pytest.raises(dataset.DatasetError, match="no 64×64 images"):
        d.x64


def test_seam_measures_steps_across_the_mask_border_only():
    mask = torch.zeros(4, 4)
    mask[1:3, 1:3] = 1
    x = torch.full((1, 3, 4, 4), -1.0)
    x[..., 1:3, 1:3] = 1.0  # a white square exactly on the mask: every border pair differs by 255
    assert seam(x, mask).tolist() == [255.0]
    x[..., 0, 0] = 1.0  # a corner pixel: not on the border
    assert seam(x, mask).tolist() == [255.0]
    assert seam(torch.zeros(1, 3, 4, 4), mask).tolist() == [0.0]


def test_held_out_emoji_are_held_out_and_drawn_in_enough_styles(tmp_path):
    build_fake(tmp_path)
    d = dataset.EmojiData(tmp_path / "data")
    picked = held_out_emoji(d, 3, min_styles=1)
    assert picked and len(picked) <= 3
    for name, rows in picked:
        assert all(d.held[r] and d.info["names"][r] == name and d.style[r] == s for s, r in rows.items())
