import json

import numpy as np
import pytest
import torch
from PIL import Image

from train import dataset, train
from train.export import load
from train.lego import LegoConfig
from train.sources import SOURCES

PNG_SOURCES = [s for s in SOURCES if s.kind == "png"]

EMOJI = [
    {"name": "GRINNING CAT FACE", "short_names": ["smiley_cat"], "category": "Smileys & Emotion",
     "image": "a.png", "sort_order": 2, "has_img_google": True, "has_img_twitter": True},
    {"name": "CAT", "short_names": ["cat2"], "category": "Animals & Nature",
     "image": "b.png", "sort_order": 1, "has_img_google": True, "has_img_twitter": True},
    {"name": "RED HEART", "short_names": ["heart"], "category": "Smileys & Emotion",
     "image": "c.png", "sort_order": 3, "has_img_google": True, "has_img_twitter": False},
    {"name": "EMOJI MODIFIER FITZPATRICK TYPE-1-2", "short_names": ["skin-tone-2"], "category": "Component",
     "image": "d.png", "sort_order": 4, "has_img_google": True, "has_img_twitter": True},
]


def fake_packages(root):
    for src in PNG_SOURCES:
        style, d = src.style, root / src.package
        (d / "img" / style / "64").mkdir(parents=True)
        (d / "emoji.json").write_text(json.dumps(EMOJI))
        for i, e in enumerate(EMOJI):
            px = np.zeros((64, 64, 4), np.uint8)
            px[:32, :, :] = (255, 0, 0, 255)  # top half opaque red, bottom half transparent
            px[32:, :, 3] = 0
            px[0, 0] = (0, 0, 255, 128 + i)
            Image.fromarray(px, "RGBA").save(d / "img" / style / "64" / e["image"])
    return root


def build_fake(tmp_path, nm=None):
    """The builder on fake PNG packages (no Iconify sets, no card)."""
    return dataset.build(nm or fake_packages(tmp_path / "nm"), tmp_path / "data", sources=PNG_SOURCES,
                         cache=tmp_path / "cache", card=None)


def test_build_dataset(tmp_path):
    info = build_fake(tmp_path)
    d = dataset.EmojiData(tmp_path / "data")
    assert info["count"] == 5  # 3 base emoji in google + 2 in twitter, no "Component"
    assert info["categories"] == ["Animals & Nature", "Smileys & Emotion"]
    assert info["vocab"] == ["cat"]  # the only word used by two emoji
    assert d.x32.shape == (5, 32, 32, 3) and d.x64.shape == (5, 64, 64, 3)
    red = d.x32[:, :16].copy()
    red[:, 0, 0] = (255, 0, 0)  # the one blue-tinted pixel is checked below
    assert (red == (255, 0, 0)).all() and (d.x32[:, 16:] == 255).all()  # composited on white
    # top-left 32×32 pixel averages one half-transparent blue pixel with three red ones
    # the blue pixel at alpha ≈ 0.5 over white is (0.5, 0.5, 1.0); the red ones are (1, 0, 0)
    assert abs(int(d.x32[0, 0, 0, 0]) - round(255 * (3 + 0.5) / 4)) <= 1
    assert abs(int(d.x32[0, 0, 0, 2]) - round(255 * 1.0 / 4)) <= 1
    y = d.labels(np.arange(5))
    assert y.shape == (5, 2 + 2 + 1)
    assert y[0].tolist() == [1, 0, 1, 0, 1]  # CAT: animals, google, "cat"


def test_missing_package_is_a_clear_error(tmp_path):
    with pytest.raises(dataset.DatasetError, match="npm ci"):
        dataset.build(tmp_path / "nothing", tmp_path / "data", card=None)


def test_corrupt_png_is_skipped_and_counted(tmp_path, capsys):
    nm = fake_packages(tmp_path / "nm")
    (nm / "emoji-datasource-google" / "img" / "google" / "64" / "b.png").write_bytes(b"not a png")
    info = build_fake(tmp_path, nm)
    assert info["count"] == 4 and info["outcomes"]["google"] == {"matched": 2, "malformed": 1, "skin_tone": 0}
    assert "google CAT: b.png unreadable" in capsys.readouterr().err


def test_train_smoke_resume_and_export(tmp_path):
    build_fake(tmp_path)
    args = ["--name", "smoke", "--preset", "tiny", "--data", str(tmp_path / "data"), "--runs", str(tmp_path / "runs"),
            "--batch", "8", "--log-every", "2", "--threads", "1", "--no-bf16", "--warmup", "2"]
    train.main(args + ["--max-images", "32"])
    ck = torch.load(tmp_path / "runs" / "smoke" / "ckpt.pt")
    assert ck["state"]["step"] == 4 and ck["state"]["images"] == 32
    train.main(args + ["--max-images", "64"])  # resumes at step 4
    ck2 = torch.load(tmp_path / "runs" / "smoke" / "ckpt.pt")
    assert ck2["state"]["step"] == 8
    log = [json.loads(l) for l in (tmp_path / "runs" / "smoke" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 4, 6, 8] and all(np.isfinite(r["loss"]) for r in log)
    assert not torch.equal(ck["ema"]["bricks.2.final.linear.weight"], ck2["ema"]["bricks.2.final.linear.weight"])

    import subprocess, sys
    out = tmp_path / "model"
    subprocess.run([sys.executable, "-m", "train.export", "--run", str(tmp_path / "runs" / "smoke"), "--out", str(out)],
                   check=True, cwd=dataset.ROOT)
    model, meta = load(out)
    assert meta["training"]["images_seen"] == 64 and meta["labels"]["vocab"] == ["cat"]
    ema = train.LegoStack(train.LegoConfig(**ck2["config"]))
    ema.load_state_dict(ck2["ema"])
    x, s, y = torch.randn(1, 3, 32, 32), torch.tensor([1.0]), torch.ones(1, 5)
    with torch.no_grad():
        tol = 0 if meta["dtype"] == "F32" else meta["training"]["fp16_max_abs_error"] * 2 + 1e-3
        assert (model.denoise(x, s, y) - ema.eval().denoise(x, s, y)).abs().max() <= tol


def test_sigterm_saves_a_checkpoint(tmp_path):
    import signal, subprocess, sys
    build_fake(tmp_path)
    p = subprocess.Popen([sys.executable, "-m", "train.train", "--name", "term", "--preset", "tiny", "--data", str(tmp_path / "data"),
                          "--runs", str(tmp_path / "runs"), "--batch", "4", "--log-every", "1", "--threads", "1", "--no-bf16"],
                         cwd=dataset.ROOT, stdout=subprocess.PIPE, text=True)
    assert "step" in next(l for l in p.stdout if l.startswith("step"))  # training is under way
    p.send_signal(signal.SIGTERM)
    out = p.communicate(timeout=60)[0]
    assert p.returncode == 0 and "done:" in out
    ck = torch.load(tmp_path / "runs" / "term" / "ckpt.pt")
    assert ck["state"]["step"] >= 1


def test_init_from_an_exported_model(tmp_path):
    """A fresh machine has no runs/ folder: training continues from the committed export."""
    import subprocess, sys
    build_fake(tmp_path)
    common = ["--preset", "tiny", "--data", str(tmp_path / "data"), "--runs", str(tmp_path / "runs"),
              "--batch", "8", "--log-every", "2", "--threads", "1", "--no-bf16", "--warmup", "2"]
    train.main(["--name", "a", "--max-images", "32"] + common)
    subprocess.run([sys.executable, "-m", "train.export", "--run", str(tmp_path / "runs" / "a"), "--out", str(tmp_path / "m"),
                    "--dtype", "F32"], check=True, cwd=dataset.ROOT)
    train.main(["--name", "b", "--max-images", "48", "--init", str(tmp_path / "m")] + common)
    a, b = (torch.load(tmp_path / "runs" / n / "ckpt.pt") for n in "ab")
    assert b["state"]["images"] == 48 and b["state"]["step"] == 6  # went on from 32 images, 4 steps
    w = "bricks.2.final.linear.weight"  # zero at initialisation (adaLN-Zero), so it shows what was learnt
    assert (b["ema"][w] - a["ema"][w]).abs().max() < a["ema"][w].abs().max()  # b went on from a, not from zero


def test_whole_canvas_brick_is_never_rolled():
    bricks = LegoConfig(**train.PRESETS["lego-s"]).bricks  # regions 4, 16, 32 on the 32×32 canvas
    gen = torch.Generator().manual_seed(0)
    shifts = [train.tiling_shifts(bricks, gen, p=1.0) for _ in range(50)]
    assert all(s[2] is None for s in shifts)
    assert any(s[0].any() for s in shifts) and any(s[1].any() for s in shifts)
    assert all(0 <= int(v) < 16 for s in shifts for v in s[1])
    old = [train.tiling_shifts(bricks, gen, p=1.0, roll_canvas=True) for _ in range(50)]
    assert any(s[2].any() for s in old)
    half = [train.tiling_shifts(bricks, gen, p=0.5) for _ in range(400)]
    rolled = sum(bool(s[1].any()) for s in half) / len(half)  # (0, 0) is also drawn 1/256 of the time
    assert 0.4 < rolled < 0.6  # binomial(400, 0.5): 4 standard deviations are ±0.1
