"""Golden fixtures for the WGSL engine: a tiny random model and the reference's outputs.

    /usr/bin/python3 -m train.fixtures          # writes test/fixtures/tiny/ and test/fixtures/stacks/*/

Every parameter is random (adaLN and final layers included, so every path is exercised); the
canvas is non-square. golden.safetensors holds inputs and outputs, golden.json says what each is.
`tiny` is the main fixture; STACKS are other brick stacks the trainer makes (official-style patches
2/8/2, progressive refinement), for the engine's parity on every shape of stack. edit.safetensors
and edit.json (tiny only) hold edit trajectories: a start image restyled, and repainted under a mask.
COVER is a stack with a region larger than its canvas unit, with goldens on several canvases
(COVER_CANVASES): one its top brick does not fit (inactive), a multiple of that region, and sides
that are not (overlapping regions).
"""
import json
from pathlib import Path

import numpy as np
import torch

from train.dataset import ROOT
from train.export import export, write_safetensors
from train.lego import ROLLED, LegoConfig, LegoStack, edit_steps, sample

VERSION = 3
EDIT_VERSION = 2  # 2: the rolled tiling of docs/model-spec.md "Canvases" (1 also rolled the top brick's one row)
OUT = ROOT / "test" / "fixtures" / "tiny"
REGEN = "/usr/bin/python3 -m train.fixtures"
LABELS = {"categories": ["Animals", "Food", "Flags"], "styles": ["google", "twitter"],
          "vocab": ["cat", "face", "red", "smiling", "heart"],
          "groups": {"category": [0, 3], "style": [3, 5], "words": [5, 10]}}
CFG = dict(d=32, heads=2, label_dim=10,
           bricks=[dict(region=4, patch=2, depth=1), dict(region=8, patch=4, depth=1), dict(region=16, patch=2, depth=2)])
STACKS_OUT = ROOT / "test" / "fixtures" / "stacks"
STACKS = {  # name → (bricks, canvas H×W)
    "pg-282": ([dict(region=4, patch=2, depth=1), dict(region=16, patch=8, depth=1), dict(region=32, patch=2, depth=2)],
               (32, 32)),
    "pr-282": ([dict(region=32, patch=2, depth=1), dict(region=16, patch=8, depth=1), dict(region=4, patch=2, depth=1)],
               (32, 32)),
}

COVER = "cover-16"  # test/fixtures/stacks/cover-16: a 16×16 brick on a stack of canvas unit 8
COVER_BRICKS = [dict(region=4, patch=2, depth=1), dict(region=8, patch=4, depth=1), dict(region=16, patch=4, depth=2)]
COVER_UNIT = 8
COVER_CANVASES = {  # name → H×W: what the 16×16 brick does there
    "8x16": (8, 16),  # inactive: its region is taller than the canvas
    "16x32": (16, 32),  # two regions side by side; the rolled tiling shifts them by 8 along the width
    "24x40": (24, 40),  # overlapping regions on both sides: rows from 0 and 8, columns from 0, 12 and 24
    "24x32": (24, 32),  # overlapping along the height, two regions rolled by 8 along the width
}


def tiny_model(seed=0, bricks=None, canvas_unit=0):
    torch.manual_seed(seed)
    model = LegoStack(LegoConfig(**{**CFG, "bricks": bricks or CFG["bricks"]}, canvas_unit=canvas_unit))
    with torch.no_grad():
        for name, p in model.named_parameters():
            fan_in = p.shape[1] if p.ndim == 2 else p.shape[0]
            p.copy_(torch.randn(p.shape) * (0.1 if name.endswith("bias") else fan_in ** -0.5))
    return model.eval()


def goldens(model, canvas, cases, rolled=False, prefix=""):
    """Inputs and the reference's outputs on one H×W canvas: every active brick's D_k for each case
    (name, active bricks, shift), and a guided 3-step Heun trajectory (with the rolled tiling on its odd
    steps if `rolled`). Returns (tensors named prefix + key, the canvas's golden.json entry)."""
    g = torch.Generator().manual_seed(1)
    B, (H, W) = 2, canvas
    sigma = torch.tensor([0.7, 3.0])
    x = torch.randn(B, 3, H, W, generator=g) * (1 + sigma[:, None, None, None])
    y = torch.zeros(B, 10)
    y[0, [0, 3, 5, 8]] = 1  # Animals, google, "cat", "smiling"
    y[1, [2, 4, 7]] = 1  # Flags, twitter, "red"
    tensors = {"x": x, "sigma": sigma, "labels": y}
    meta = {"canvas": [H, W], "batch": B, "sigma": sigma.tolist(), "cases": {}}
    for case, active, shift in cases:
        outs = model(x, sigma, y, active=active, shift=shift)
        meta["cases"][case] = {"active": active, "shift": shift if shift == ROLLED else list(shift),
                               "outputs": [f"{prefix}{case}.D{k}" for k, _ in outs]}
        tensors.update({f"{case}.D{k}": D for k, D in outs})
    noise = torch.randn(B, 3, H, W, generator=g)
    traj = sample(model, noise, y[:1].expand(B, -1), steps=3, cfg_scale=2.0, heun=True,  # one label for the batch
                  shift_at=(lambda i: ROLLED if i % 2 else None) if rolled else None)
    tensors["heun.noise"] = noise
    tensors.update({f"heun.x{i}": t for i, t in enumerate(traj)})
    meta["heun"] = {"steps": 3, "cfg": 2.0, "sampler": "heun", "labels": "labels[0] for every image",
                    "trajectory": [f"{prefix}heun.x{i}" for i in range(4)]}
    if rolled:
        meta["heun"]["shift"] = ROLLED + " on odd steps"
    return {prefix + k: v for k, v in tensors.items()}, meta


def write_goldens(out, tensors, meta):
    write_safetensors({k: v.float().numpy() for k, v in tensors.items()}, out / "golden.safetensors")
    (out / "golden.json").write_text(json.dumps(meta, indent=1) + "\n")


@torch.no_grad()
def generate(out=OUT, name="tiny", bricks=None, canvas=(16, 32)):
    torch.set_num_threads(1)
    model = tiny_model(bricks=bricks)
    out.mkdir(parents=True, exist_ok=True)
    export(model, LABELS, out, name, "F32", {"fixture_version": VERSION})
    top = model.cfg.max_region
    cases = [("all", [0, 1, 2], (0, 0)), ("skip_middle", [0, 2], (0, 0)), ("skip_top", [0, 1], (0, 0)),
             ("skip_bottom", [1, 2], (0, 0)), ("shifted", [0, 1, 2], (top // 4, top // 2))]
    tensors, golden = goldens(model, canvas, cases)
    meta = {"version": VERSION, "regenerate": REGEN, **golden}
    write_goldens(out, tensors, meta)
    return meta


@torch.no_grad()
def generate_cover(out=STACKS_OUT / COVER):
    """The COVER stack's goldens on every canvas of COVER_CANVASES, keys prefixed with the canvas name."""
    torch.set_num_threads(1)
    model = tiny_model(bricks=COVER_BRICKS, canvas_unit=COVER_UNIT)
    out.mkdir(parents=True, exist_ok=True)
    export(model, LABELS, out, COVER, "F32", {"fixture_version": VERSION})
    cases = [("all", [0, 1, 2], (0, 0)), ("skip_middle", [0, 2], (0, 0)), ("skip_bottom", [1, 2], (0, 0)),
             ("rolled", [0, 1, 2], ROLLED)]
    tensors, meta = {}, {"version": VERSION, "regenerate": REGEN, "canvases": {}}
    for name, canvas in COVER_CANVASES.items():
        t, meta["canvases"][name] = goldens(model, canvas, cases, rolled=True, prefix=f"{name}.")
        tensors.update(t)
    write_goldens(out, tensors, meta)
    return meta


EDIT_CASES = {  # name → (sampler, guidance, masked): every path of the sampler kernel with a start image
    "restyle": ("heun", 2.0, False),
    "repaint": ("heun", 2.0, True),
    "repaint_euler": ("euler", 1.0, True),
}


@torch.no_grad()
def generate_edit(out=OUT, steps=6, strength=0.5):
    """Edit trajectories of the tiny model: the last edit_steps(6, 0.5) = 3 of 6 steps from a start image
    (labels[0] of golden.safetensors, batch 2), with the rolled tiling on odd steps of the whole schedule, as
    the engines do on this 16×32 canvas of two top regions (the top brick shifted by 8 along the width)."""
    torch.set_num_threads(1)
    model = tiny_model()
    g = torch.Generator().manual_seed(2)
    B, H, W = 2, 16, 32
    start = torch.tanh(2 * torch.randn(3, H, W, generator=g))
    mask = torch.zeros(H, W)
    mask[4:12, 6:22] = 1
    mask[4:12, 5] = 0.5  # a soft edge
    noise = torch.randn(B, 3, H, W, generator=g)
    y = torch.zeros(B, 10)
    y[:, [0, 3, 5, 8]] = 1  # Animals, google, "cat", "smiling"
    tensors = {"start": start, "mask": mask, "noise": noise, "labels": y[0]}
    cases = {}
    for name, (sampler, cfg, masked) in EDIT_CASES.items():
        traj = sample(model, noise, y, steps=steps, cfg_scale=cfg, heun=sampler == "heun", start=start,
                      strength=strength, mask=mask if masked else None,
                      shift_at=lambda i: ROLLED if i % 2 else None)
        cases[name] = {"sampler": sampler, "guidance": cfg, "mask": masked,
                       "trajectory": [f"{name}.x{i}" for i in range(len(traj))]}
        tensors.update({f"{name}.x{i}": x for i, x in enumerate(traj)})
    write_safetensors({k: v.float().numpy() for k, v in tensors.items()}, out / "edit.safetensors")
    meta = {"version": EDIT_VERSION, "regenerate": REGEN, "canvas": [H, W], "batch": B, "steps": steps,
            "strength": strength, "edit_steps": edit_steps(steps, strength),
            "shift": ROLLED + " on odd steps",
            "labels": "labels, one vector for the batch",
            "trajectory": "the first state (start + t[steps − edit_steps]·noise), then the state after each step",
            "cases": cases}
    (out / "edit.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def generate_all():
    """Every fixture: (folder, its golden.json)."""
    out = [(OUT, generate())]
    generate_edit()
    for name, (bricks, canvas) in STACKS.items():
        out.append((STACKS_OUT / name, generate(STACKS_OUT / name, name, bricks, canvas)))
    out.append((STACKS_OUT / COVER, generate_cover()))
    return out


if __name__ == "__main__":
    for d, _ in generate_all():
        size = sum(f.stat().st_size for f in d.iterdir())
        print(f"fixtures v{VERSION} → {d} ({size / 1024:.0f} KiB)")
