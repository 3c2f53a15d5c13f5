"""train/gpu.sh, the whole GPU window, run on the CPU with a tiny stack; and the weights' parts."""
import json
import os
import subprocess
import sys

import pytest
import torch

from train import train
from train.dataset import ROOT
from train.export import export, join_weights, load, split_weights
from train.tests.test_train import build_fake


def test_gpu_window_measures_grows_trains_and_exports_in_parts(tmp_path):
    """A tiny export grown into a deeper preset, the two throughput measurements, training until the
    images run out, and the export in parts that join back into a model that loads."""
    build_fake(tmp_path)
    common = ["--data", str(tmp_path / "data"), "--runs", str(tmp_path / "runs"), "--batch", "8", "--threads", "1",
              "--no-bf16", "--warmup", "2"]
    train.main(["--name", "small", "--preset", "tiny", "--max-images", "32"] + common)
    subprocess.run([sys.executable, "-m", "train.export", "--run", str(tmp_path / "runs" / "small"),
                    "--out", str(tmp_path / "init"), "--dtype", "F32"], check=True, cwd=ROOT, capture_output=True)
    out = tmp_path / "out"
    env = dict(os.environ, OUT=str(out), DEVICE="cpu", PRESET="tiny-deep", INIT=str(tmp_path / "init"),
               DATA=str(tmp_path / "data"), BATCH="8", MINUTES="2", COMPILE="0", MEASURE_STEPS="1", PROFILE_AFTER="1",
               PART_MIB="0.1", POLL="1", PYTHON=sys.executable, RUNS=str(tmp_path / "scratch"),
               TRAIN_ARGS="--max-images 128")
    r = subprocess.run(["bash", "train/gpu.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    log = (out / "train.out").read_text()
    assert r.returncode == 0, log
    assert "grew" in log and "tiny-deep" in log

    profile = (out / "profile.txt").read_text()
    heads = [line for line in profile.splitlines() if line.startswith("== ") and "images/s" in line]
    assert len(heads) == 3, profile  # old path, new path uncompiled, the training run itself
    assert "old path" in heads[0] and "new path, not compiled" in heads[1] and "tiny-deep" in heads[2]
    assert profile.count("Self CPU time total") == 3  # a profiler table each

    parts = sorted(p.name for p in (out / "lego-emoji-32").iterdir())
    assert parts[0] == "model.json" and len(parts) > 2 and all(p.startswith("weights.safetensors.") for p in parts[1:])
    assert all((out / "lego-emoji-32" / p).stat().st_size <= 0.1 * 2 ** 20 for p in parts[1:])
    join_weights(out / "lego-emoji-32")
    model, meta = load(out / "lego-emoji-32")
    assert [b.depth for b in model.cfg.bricks] == [1, 1, 3] and meta["dtype"] == "F16"
    assert meta["training"]["images_seen"] >= 128 and meta["training"]["grown"][0]["images"] == 32
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert rows and rows[-1]["images"] <= meta["training"]["images_seen"]


def test_weights_split_into_parts_and_join_back(tmp_path):
    torch.manual_seed(0)
    m = train.LegoStack(train.LegoConfig(**train.PRESETS["tiny"], label_dim=4))
    labels = {"categories": ["a"], "styles": ["s"], "vocab": ["w"], "groups": {}}
    meta = export(m, labels, tmp_path, "t", "F32")
    whole = (tmp_path / "weights.safetensors").read_bytes()
    parts = split_weights(tmp_path, 100_000)
    assert [p.name for p in parts] == [f"weights.safetensors.{i:02d}" for i in range(len(parts))] and len(parts) > 2
    assert not (tmp_path / "weights.safetensors").exists()
    with pytest.raises(ValueError, match="--join"):
        load(tmp_path)
    saved = parts[1].read_bytes()
    parts[1].write_bytes(saved[:-1] + b"\0")  # a torn part: the SHA-256 check refuses it and keeps the parts
    with pytest.raises(ValueError, match="SHA-256"):
        join_weights(tmp_path)
    parts[1].write_bytes(saved)
    join_weights(tmp_path)
    assert (tmp_path / "weights.safetensors").read_bytes() == whole and not list(tmp_path.glob("*.0*"))
    assert load(tmp_path)[1]["weights"]["sha256"] == meta["weights"]["sha256"]
    assert split_weights(tmp_path, len(whole)) == [tmp_path / "weights.safetensors"]  # small enough: one file


def test_gpu_window_mode_64_adds_a_64_brick_and_trains_it_on_the_frozen_stack(tmp_path):
    """MODE=64 on the CPU with tiny stacks: the frozen and all-bricks measurements, a 64×64 brick grown on the
    exported stack and trained on the 64×64 copy of the data, exported as lego-emoji-64."""
    from train.dataset import copy_64
    build_fake(tmp_path)
    train.main(["--name", "small", "--preset", "tiny", "--data", str(tmp_path / "data"), "--runs", str(tmp_path / "runs"),
                "--batch", "8", "--threads", "1", "--no-bf16", "--warmup", "2", "--max-images", "32"])
    subprocess.run([sys.executable, "-m", "train.export", "--run", str(tmp_path / "runs" / "small"),
                    "--out", str(tmp_path / "init"), "--dtype", "F32"], check=True, cwd=ROOT, capture_output=True)
    copy_64(tmp_path / "data", tmp_path / "data64")
    out = tmp_path / "out"
    env = dict(os.environ, MODE="64", OUT=str(out), DEVICE="cpu", PRESET="tiny-64", INIT=str(tmp_path / "init"),
               DATA=str(tmp_path / "data64"), BATCH="8", MINUTES="2", COMPILE="0", MEASURE_STEPS="1",
               PROFILE_AFTER="1", POLL="1", PYTHON=sys.executable, RUNS=str(tmp_path / "scratch"),
               TRAIN_ARGS="--max-images 96")
    r = subprocess.run(["bash", "train/gpu.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    log = (out / "train.out").read_text()
    assert r.returncode == 0, log
    assert "grew" in log and "64×64 evaluation" in log and "trained, bricks [4]" in log
    heads = [line for line in (out / "profile.txt").read_text().splitlines() if line.startswith("== ") and "images/s" in line]
    assert len(heads) == 3 and "frozen" in heads[0] and "every brick" in heads[1] and "tiny-64" in heads[2]
    model, meta = load(out / "lego-emoji-64")
    init, _ = load(tmp_path / "init")
    assert meta["training"]["canvas"] == 64 and meta["training"]["lower_lr"] == 0 and meta["dtype"] == "F16"
    x, s, y = torch.randn(1, 3, 32, 32), torch.tensor([1.0]), torch.rand(1, 5)
    with torch.no_grad():  # frozen below: at 32×32 the export is the initial model up to fp16 rounding
        assert (model.denoise(x, s, y) - init.denoise(x, s, y)).abs().max() <= meta["training"]["fp16_max_abs_error"] * 2 + 1e-3
