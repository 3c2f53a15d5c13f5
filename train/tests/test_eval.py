import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from train import dataset
from train.eval import PROMPT_CATEGORY_SHARE, held_out_emoji, nearest_distances, prompt_category, seam
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


def synthetic_data(path, n=96, seed=0):
    """A built dataset of n random two-colour blobs in two categories and two styles (the fake npm packages give
    one held-out image, too few for a Fréchet distance): x32 is x64 area-downsampled, as the builder makes it."""
    import hashlib
    import json
    rng = np.random.default_rng(seed)
    names = [f"emoji {i}" for i in range(n)]
    cat, style = np.arange(n) % 2, (np.arange(n) // 2) % 2
    x64 = np.full((n, 64, 64, 3), 255, np.uint8)
    for i in range(n):
        r, c = rng.integers(8, 40, 2)
        x64[i, r:r + 24, c:c + 24] = (200, 40, 40) if cat[i] else (40, 40, 200)
    x32 = dataset.to_u8(x64.reshape(n, 32, 2, 32, 2, 3).mean(axis=(2, 4)) / 255)
    held = np.array([dataset.held_out(nm) for nm in names])
    path.mkdir(parents=True)
    np.savez_compressed(path / "emoji.npz", x32=x32, x64=x64, cat=cat, style=style, held=held,
                        words=(rng.random((n, 1)) < 0.5).astype(np.uint8))
    (path / "emoji.json").write_text(json.dumps({
        "categories": ["Animals", "Flags"], "styles": ["google", "twitter"], "vocab": ["cat"], "names": names,
        "count": n, "sha256_x32": hashlib.sha256(x32.tobytes()).hexdigest(), "sources": []}))


def test_the_64px_eval_modes_score_a_tiny_grown_model_beside_its_base(tmp_path, monkeypatch):
    """size64 and skip --size 64 on a tiny 64×64 brick trained for a few steps on a frozen tiny stack: they run
    end to end, and at 32×32 the grown model draws its base's samples exactly (the brick is inactive there)."""
    import json
    from PIL import Image
    from train import eval as ev, judge, train
    from train.tests.test_train64 import COMMON
    data = tmp_path / "data"
    synthetic_data(data)
    runs = ["--data", str(data), "--runs", str(tmp_path / "runs"), "--max-images", "32"] + COMMON
    train.main(["--name", "small", "--preset", "tiny"] + runs)
    export = [sys.executable, "-m", "train.export", "--dtype", "F32", "--run"]
    subprocess.run(export + [str(tmp_path / "runs" / "small"), "--out", str(tmp_path / "init")], check=True,
                   cwd=dataset.ROOT, capture_output=True)
    train.main(["--name", "big", "--preset", "tiny-64", "--canvas", "64", "--init", str(tmp_path / "init")] + runs)
    subprocess.run(export + [str(tmp_path / "runs" / "big"), "--out", str(tmp_path / "m64")], check=True,
                   cwd=dataset.ROOT, capture_output=True)
    # the judges go to tmp_path, not the repository's runs/
    monkeypatch.setattr(judge, "judge_path", lambda data, target="category": tmp_path / f"judge_{target}.pt")
    monkeypatch.setattr(ev, "OUT", tmp_path / "eval")
    plots = []
    monkeypatch.setattr(ev, "plot", lambda name, panels, title, **kw: plots.append((name, title)))  # no matplotlib here
    common = ["--model", str(tmp_path / "m64"), "--data", str(data), "--per-class", "4", "--steps", "2",
              "--threads", "1"]
    ev.main(["size64", "--base", str(tmp_path / "init")] + common)
    out = json.loads((tmp_path / "eval" / "size64.json").read_text())
    big, small = (out["models"][n] for n in ("big", "small"))
    assert big["role"] == "model" and small["role"] == "base"
    assert big["32"]["fid"] == small["32"]["fid"] and big["32"]["accuracy"] == small["32"]["accuracy"]
    assert big["64"]["fid"] != small["64"]["fid"] and big["64"]["seam_ratio"] > 0
    assert out["ceiling"]["64"]["n"] == out["ceiling"]["32"]["n"] > 2
    assert Image.open(tmp_path / "eval" / "samples64.png").size == (2 + 4 * 66, 2 + 2 * 66)  # 2 categories × 4
    assert "64×64" in (tmp_path / "eval" / "size64.md").read_text()

    ev.main(["skip", "--size", "64", "--fractions", "0", "1"] + common)
    skip = json.loads((tmp_path / "eval" / "skip_curve64.json").read_text())
    assert skip["size"] == 64 and [r["setting"] for r in skip["results"]] == [
        "top brick skipped for last 0%", "top brick skipped for last 100%", "brick 1 off", "brick 2 off", "brick 3 off"]
    assert plots == [("skip_curve64", "big: skipping the top brick at 64×64")]


def test_the_seam_ratio_sees_a_seam_and_not_a_smooth_image():
    from train.eval import seam_ratio
    ramp = torch.linspace(-1, 1, 64)
    smooth = (ramp[None, :] + ramp[:, None]).expand(1, 3, 64, 64) / 2
    assert seam_ratio(smooth) == pytest.approx(1.0, rel=1e-3)
    seam = smooth.clone()
    seam[..., 32:] += 0.5
    assert seam_ratio(seam) > 5


def test_prompt_category_is_the_pages_rule():
    """The cases of test/model/labels.test.ts (promptCategory), and its threshold, so the eval scores what the
    page sends."""
    ts = (Path(__file__).parents[2] / "src/model/labels.ts").read_text()
    assert float(re.search(r"PROMPT_CATEGORY_SHARE = ([\d.]+);", ts)[1]) == PROMPT_CATEGORY_SHARE
    labels = {"categories": ["Animals", "Food", "Smileys"], "vocab": ["dog", "hot", "cake", "grin"],
              "word_categories": [[8, 2, 0], [0, 1, 3], [0, 5, 0], [0, 0, 0]]}
    assert prompt_category(labels, ["dog"]) == 0
    assert prompt_category(labels, ["cake"]) == 1
    assert prompt_category(labels, ["hot"]) == 2
    assert prompt_category(labels, ["hot", "dog"]) is None  # best mean share 0.4
    assert prompt_category(labels, ["dog", "cake"]) == 1  # (0.2 + 1) / 2
    assert prompt_category(labels, ["grin", "cake", "zebra"]) == 1
    assert prompt_category(labels, ["grin"]) is None
    assert prompt_category({**labels, "word_categories": None}, ["dog"]) is None
