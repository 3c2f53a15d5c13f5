"""Train a LEGO stack on the emoji dataset (EDM loss, deep supervision, random brick dropping).

    /usr/bin/python3 -m train.train --name lego-emoji-32              # CPU, resumes if possible
    torchrun --nproc_per_node 8 -m train.train --name X --device cuda  # several GPUs (DDP)

Checkpoints go to runs/<name>/ckpt.pt (every --ckpt-minutes, atomically), the progress log to
runs/<name>/log.jsonl and sample grids to runs/<name>/samples_<images>.png.
"""
import argparse
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from train.dataset import EmojiData, ROOT
from train.lego import LegoConfig, LegoStack, SIGMA_DATA, coords, sample
from train.export import load as load_exported
from train.images import save_grid

CANVAS = 32  # training images are CANVAS×CANVAS (or crops of that size from the 64×64 copies)
PRESETS = {
    # the shipped model: progressive growth, 4×4 → 16×16 → whole-image regions
    "pg": dict(d=192, heads=6, bricks=[dict(region=4, patch=2, depth=2), dict(region=16, patch=4, depth=3),
                                      dict(region=32, patch=4, depth=4)]),
    # the same with patch 2 on the top brick: finer output, about half the images/s
    "pg-p2": dict(d=192, heads=6, bricks=[dict(region=4, patch=2, depth=2), dict(region=16, patch=4, depth=3),
                                         dict(region=32, patch=2, depth=4)]),
    # progressive refinement: the whole-image brick first, small regions on top
    "pr": dict(d=192, heads=6, bricks=[dict(region=32, patch=4, depth=4), dict(region=16, patch=4, depth=3),
                                      dict(region=4, patch=2, depth=2)]),
    # official-style patches 2/8/2 (JegZheng/LEGODiffusion lego_*_PG): a cheap patch-8 middle brick and
    # the depth on a patch-2 whole-image brick
    "lego-s": dict(d=192, heads=6, bricks=[dict(region=4, patch=2, depth=2), dict(region=16, patch=8, depth=2),
                                          dict(region=32, patch=2, depth=6)]),
    # the same, wider and deeper on top (head dim 64, the kernels' largest)
    "lego-m": dict(d=256, heads=4, bricks=[dict(region=4, patch=2, depth=2), dict(region=16, patch=8, depth=2),
                                          dict(region=32, patch=2, depth=8)]),
    # DiT baseline: one whole-image brick of similar size
    "dit": dict(d=192, heads=6, bricks=[dict(region=32, patch=2, depth=9)]),
    # tests
    "tiny": dict(d=32, heads=2, bricks=[dict(region=4, patch=2, depth=1), dict(region=8, patch=4, depth=1),
                                       dict(region=16, patch=2, depth=1)]),
}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Train a LEGO diffusion stack on emoji.")
    g = ap.add_argument_group("run")
    g.add_argument("--name", default="lego-emoji-32")
    g.add_argument("--preset", default="pg", choices=sorted(PRESETS))
    g.add_argument("--data", type=Path, default=ROOT / "data")
    g.add_argument("--runs", type=Path, default=ROOT / "runs")
    g.add_argument("--device", default="cpu", help="cpu or cuda (DDP under torchrun)")
    g.add_argument("--threads", type=int, default=2)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--init", type=Path, help="exported model folder to start from when runs/<name> has no checkpoint "
                   "(e.g. public/models/lego-emoji-32 on a fresh machine)")
    g.add_argument("--max-images", type=float, default=float("inf"), help="stop after this many images")
    g.add_argument("--max-minutes", type=float, default=float("inf"))
    g.add_argument("--max-cpu-minutes", type=float, default=float("inf"),
                   help="stop after this much CPU time of this process (equal-compute ablations on a shared machine)")
    g.add_argument("--ckpt-minutes", type=float, default=10)
    g.add_argument("--sample-minutes", type=float, default=20)
    g.add_argument("--snapshot-minutes", type=float, default=20,
                   help="keep the EMA weights every so often (runs/<name>/ema_<images>.pt) for quality curves")
    g.add_argument("--log-every", type=int, default=20, help="steps between progress lines")
    g = ap.add_argument_group("optimisation")
    g.add_argument("--batch", type=int, default=64, help="global batch size")
    g.add_argument("--lr", type=float, default=3e-4)
    g.add_argument("--warmup", type=int, default=500, help="linear warm-up steps")
    g.add_argument("--decay-images", type=float, default=float("inf"),
                   help="past this many images the lr decays as 1/√(images/N) (EDM2's schedule; no end to plan)")
    g.add_argument("--ema", type=float, default=0.999)
    g.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True, help="bf16 autocast")
    g = ap.add_argument_group("model and data")
    g.add_argument("--label-drop", type=float, default=0.1, help="whole label vector → 0")
    g.add_argument("--group-drop", type=float, default=0.1, help="each label group → 0 on its own")
    g.add_argument("--word-drop", type=float, default=0.3, help="each word → 0 on its own")
    g.add_argument("--brick-drop", type=float, default=0.1, help="each brick skipped on its own")
    g.add_argument("--roll", type=float, default=0.5,
                   help="probability of rolling the tiling of a brick with several regions on the canvas")
    g.add_argument("--roll-canvas", action="store_true",
                   help="also roll bricks whose one region is the whole canvas (the first model's recipe: it shows "
                        "them wrapped-around emoji that sampling never produces)")
    g.add_argument("--crop64", type=float, default=0.0, help="fraction of 32×32 crops of 64×64 images")
    return ap.parse_args(argv)


class Batcher:
    """Random batches: 32×32 images with whole-canvas coordinates, or 32×32 crops of the 64×64
    images carrying the crop's coordinates on the 64×64 canvas."""

    def __init__(self, data: EmojiData, args, rng: np.random.Generator, device):
        self.d, self.a, self.rng, self.device = data, args, rng, device
        self.coord32 = coords(CANVAS, CANVAS)

    def labels(self, idx):
        y = self.d.labels(idx)
        a, rng, n = self.a, self.rng, len(idx)
        for lo, hi in self.d.label_groups().values():
            y[rng.random(n) < a.group_drop, lo:hi] = 0
        w0 = self.d.n_cat + self.d.n_style
        y[:, w0:] *= rng.random((n, self.d.n_words)) >= a.word_drop
        y[rng.random(n) < a.label_drop] = 0
        return torch.from_numpy(y)

    def __call__(self, n):
        idx = self.d.train_rows[self.rng.integers(0, len(self.d.train_rows), n)]
        crop = self.rng.random(n) < self.a.crop64
        x = np.empty((n, 32, 32, 3), np.uint8)
        c = self.coord32[None].repeat(n, 1, 1, 1)
        x[~crop] = self.d.x32[idx[~crop]]
        for i in np.flatnonzero(crop):
            r0, c0 = self.rng.integers(0, 33, 2)
            x[i] = self.d.x64[idx[i], r0:r0 + 32, c0:c0 + 32]
            c[i] = coords(32, 32, r0, c0, 64, 64)
        x = torch.from_numpy(x).permute(0, 3, 1, 2).float() / 127.5 - 1
        return x.to(self.device), self.labels(idx).to(self.device), c.to(self.device)


def tiling_shifts(bricks, rng, p, roll_canvas=False):
    """A random region-grid offset per brick with probability p, for bricks with several regions
    on the training canvas only (unless roll_canvas): rolling a brick whose one region is the whole
    canvas shows it emoji cut and wrapped around, which sampling at that size never does."""
    rolls = [(b.region < CANVAS or roll_canvas) and rng.random() < p for b in bricks]
    return [tuple(int(v) for v in rng.integers(0, b.region, 2)) if r else (0, 0) for b, r in zip(bricks, rolls)]


def edm_loss(model, x, y, coord, active, shifts, gen):
    """Mean over active bricks of the EDM-weighted denoising loss; also each brick's loss."""
    B = x.shape[0]
    sigma = torch.exp(torch.randn(B, generator=gen, device=x.device) * 1.2 - 1.2)
    noisy = x + torch.randn(x.shape, generator=gen, device=x.device) * sigma[:, None, None, None]
    weight = (sigma ** 2 + SIGMA_DATA ** 2) / (sigma * SIGMA_DATA) ** 2
    outs = model(noisy, sigma, y, active=active, coord=coord, shifts=shifts)
    per = {k: (weight * ((D.float() - x) ** 2).mean(dim=(1, 2, 3))).mean() for k, D in outs}
    return sum(per.values()) / len(per), per


def atomic_save(obj, path):
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main(argv=None):
    a = parse_args(argv)
    ddp = "WORLD_SIZE" in os.environ
    rank, world = 0, 1
    if ddp:
        dist.init_process_group("nccl" if a.device == "cuda" else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if a.device == "cuda" else "cpu")
    if a.device == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
    torch.set_num_threads(a.threads)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"  # for the log
    main_proc = rank == 0

    data = EmojiData(a.data)
    run = a.runs / a.name
    run.mkdir(parents=True, exist_ok=True)
    ckpt_path = run / "ckpt.pt"
    cfg = LegoConfig(**PRESETS[a.preset], label_dim=data.label_dim)
    model = LegoStack(cfg).to(device)
    ema = LegoStack(cfg).to(device)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.99), fused=a.device == "cuda")
    state = dict(step=0, images=0, seconds=0.0)
    warm_from = 0  # the step the learning-rate warm-up counts from: a fresh optimiser warms up again
    if ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location=device, weights_only=False)
        if ck["config"] != cfg.to_dict():
            sys.exit(f"error: {ckpt_path} holds another architecture; use another --name")
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        if main_proc:
            print(f"resumed {ckpt_path}: step {state['step']}, {state['images']:,} images")
    elif a.init:
        # no checkpoint (a fresh machine): continue from exported weights, with a fresh optimiser
        init, meta = load_exported(a.init)
        if init.cfg.to_dict() != cfg.to_dict():
            sys.exit(f"error: {a.init} holds another architecture than preset {a.preset}")
        model.load_state_dict(init.state_dict())
        ema.load_state_dict(init.state_dict())
        t = meta.get("training", {})
        state = dict(step=t.get("steps", 0), images=t.get("images_seen", 0), seconds=t.get("hours", 0) * 3600)
        warm_from = state["step"]
        if main_proc:
            print(f"initialised from {a.init}: {state['images']:,} images seen (optimiser state starts afresh)")
    n_params = sum(p.numel() for p in model.parameters())
    if main_proc:
        print(f"{a.name}: preset {a.preset}, {n_params / 1e6:.2f} M params, {cfg.flops() / 1e9:.2f} GFLOP per 32×32 "
              f"evaluation, label dim {data.label_dim}, "
              f"bricks {[(b.region, b.patch, b.depth) for b in cfg.bricks]}, device {device}, world {world}")
    net = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True) if ddp else model

    seed = a.seed + 1000 * rank + state["step"]
    rng = np.random.default_rng(seed)
    gen = torch.Generator(device=device).manual_seed(seed)
    batcher = Batcher(data, a, rng, device)
    local_batch = a.batch // world
    n_bricks = len(cfg.bricks)
    t_start = time.time()
    last_ckpt = last_sample = last_snapshot = t_start
    seconds0 = state["seconds"]
    window = dict(t=time.time(), images=0, loss={})
    autocast = torch.autocast("cpu" if a.device == "cpu" else "cuda", dtype=torch.bfloat16, enabled=a.bf16)

    def save():
        atomic_save(dict(model=model.state_dict(), ema=ema.state_dict(), opt=opt.state_dict(),
                         config=cfg.to_dict(), state=state,
                         args={k: str(v) if isinstance(v, Path) else v for k, v in vars(a).items()},
                         labels=dict(categories=data.info["categories"], styles=data.info["styles"],
                                     vocab=data.info["vocab"], groups=data.label_groups())), ckpt_path)

    def grid():
        g = torch.Generator().manual_seed(1)
        cats = torch.arange(data.n_cat).repeat_interleave(4)
        y = torch.zeros(len(cats), data.label_dim)
        y[torch.arange(len(cats)), cats] = 1
        noise = torch.randn(len(cats), 3, 32, 32, generator=g).to(device)
        x = sample(ema, noise, y.to(device), steps=18, cfg_scale=2.0)[-1]
        path = run / f"samples_{state['images']:09d}.png"
        save_grid(x, path, ncol=8)
        return path

    stop = []  # SIGTERM/SIGINT: finish the step, save the checkpoint, exit
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(True))
    cpu0 = time.process_time()
    while (not stop and state["images"] < a.max_images and (time.time() - t_start) / 60 < a.max_minutes
           and (time.process_time() - cpu0) / 60 < a.max_cpu_minutes):
        warm = min(1.0, (state["step"] - warm_from + 1) / a.warmup)
        lr = a.lr * warm / math.sqrt(max(1.0, state["images"] / a.decay_images))
        for pg in opt.param_groups:
            pg["lr"] = lr
        x, y, c = batcher(local_batch)
        active = [k for k in range(n_bricks) if rng.random() >= a.brick_drop] or [int(rng.integers(n_bricks))]
        shifts = tiling_shifts(cfg.bricks, rng, a.roll, a.roll_canvas)
        with autocast:
            loss, per = edm_loss(net, x, y, c, active, shifts, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        decay = min(a.ema, (1 + state["step"]) / (10 + state["step"]))
        with torch.no_grad():
            ema_params, params = list(ema.parameters()), list(model.parameters())
            if hasattr(torch, "_foreach_lerp_"):  # one kernel for all parameters (PyTorch ≥ 2.0)
                torch._foreach_lerp_(ema_params, params, 1 - decay)
            else:
                for pe, pm in zip(ema_params, params):
                    pe.lerp_(pm, 1 - decay)
        state["step"] += 1
        state["images"] += a.batch
        window["images"] += a.batch
        for k, v in per.items():  # kept on the device: no sync per step
            window["loss"].setdefault(k, []).append(v.detach())
        now = time.time()
        state["seconds"] = seconds0 + now - t_start
        if main_proc and state["step"] % a.log_every == 0:
            ips = window["images"] / (now - window["t"])
            losses = {k: float(torch.stack(v).float().mean()) for k, v in sorted(window["loss"].items())}
            mean = float(np.mean(list(losses.values())))
            line = " ".join(f"b{k}={v:.4f}" for k, v in losses.items())
            print(f"step {state['step']:7d} | {state['images']:>10,} img | {ips:5.1f} img/s | "
                  f"loss {mean:.4f} | {line} | lr {lr:.1e} | {state['seconds'] / 3600:.2f} h", flush=True)
            with open(run / "log.jsonl", "a") as f:
                f.write(json.dumps(dict(step=state["step"], images=state["images"], seconds=state["seconds"],
                                        ips=ips, loss=mean, bricks=losses, lr=lr, batch=a.batch,
                                        device=device_name)) + "\n")
            window = dict(t=now, images=0, loss={})
        if main_proc and now - last_ckpt > a.ckpt_minutes * 60:
            save()
            last_ckpt = now
        if main_proc and now - last_snapshot > a.snapshot_minutes * 60:
            torch.save(dict(ema={k: v.half().cpu() for k, v in ema.state_dict().items()}, config=cfg.to_dict(),
                            state=dict(state)),
                       run / f"ema_{state['images']:09d}.pt")
            last_snapshot = now
        if main_proc and now - last_sample > a.sample_minutes * 60:
            print(f"sample grid → {grid()}", flush=True)
            last_sample = window["t"] = time.time()
    if main_proc:
        save()
        print(f"done: {state['images']:,} images, checkpoint {ckpt_path}")
    if ddp:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
