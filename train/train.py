"""Train a LEGO stack on the emoji dataset (EDM loss, deep supervision, random brick dropping).

    /usr/bin/python3 -m train.train --name lego-emoji-32              # CPU, resumes if possible
    torchrun --nproc_per_node 8 -m train.train --name X --device cuda  # several GPUs (DDP)

Checkpoints go to runs/<name>/ckpt.pt (every --ckpt-minutes, atomically), the progress log to
runs/<name>/log.jsonl and sample grids to runs/<name>/samples_<images>.png.

Batches are drawn where the data is kept (--data-device, default the training device): the images
as uint8, their labels, indices, noise, label drops and tiling offsets all live there, and every
step has the same shapes. --compile compiles each brick on its own (PyTorch ≥ 2.2), so dropping a
brick stays a Python decision; --profile-steps measures images/s and writes a torch.profiler table.
"""
import argparse
import gzip
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
from train.lego import SHORT_TOKENS, Attention, LegoConfig, LegoStack, SIGMA_DATA, coords, fits, sample
from train.export import load as load_exported
from train.grow import grow
from train.images import save_grid

CANVAS = 32  # training images are CANVAS×CANVAS (or crops of that size from the 64×64 copies)
H200_BF16_TFLOPS = 989  # dense bf16 peak of the GPU machines lent so far: the MFU denominator
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
    # lego-s with twice its FLOPs per image, all of them added to the whole-image brick (14 blocks instead of 6:
    # 4.41 GFLOP per 32×32 evaluation, 12.7 M parameters, 25.4 MB in fp16). It grows from trained lego-s
    # weights without changing what they compute (train/grow.py), so a GPU window goes on from the shipped model.
    "lego-s14": dict(d=192, heads=6, bricks=[dict(region=4, patch=2, depth=2), dict(region=16, patch=8, depth=2),
                                            dict(region=32, patch=2, depth=14)]),
    # whole emoji at 64×64: lego-s with a brick of 64×64 regions on top (patch 4: 256 tokens per region, as the top
    # brick at 32×32 with patch 2; depth 6, as that brick). Canvases stay multiples of 32: on 32-pixel sides the new
    # brick is inactive and the model is lego-s. 1.70 GFLOP of a 64×64 evaluation's 10.48 (lego-s alone 8.78);
    # 11.5 M parameters, 23 MB in fp16.
    "lego-s64": dict(d=192, heads=6, canvas_unit=32,
                     bricks=[dict(region=4, patch=2, depth=2), dict(region=16, patch=8, depth=2),
                             dict(region=32, patch=2, depth=6), dict(region=64, patch=4, depth=6)]),
    # the same on top of lego-s14 (issue 18's stack), for when that one ships
    "lego-s14-64": dict(d=192, heads=6, canvas_unit=32,
                        bricks=[dict(region=4, patch=2, depth=2), dict(region=16, patch=8, depth=2),
                                dict(region=32, patch=2, depth=14), dict(region=64, patch=4, depth=6)]),
    # lego-s wider (head dim 64, the kernels' largest) and deeper on top
    "lego-m": dict(d=256, heads=4, bricks=[dict(region=4, patch=2, depth=2), dict(region=16, patch=8, depth=2),
                                          dict(region=32, patch=2, depth=8)]),
    # DiT baseline: one whole-image brick of similar size
    "dit": dict(d=192, heads=6, bricks=[dict(region=32, patch=2, depth=9)]),
    # tests
    "tiny": dict(d=32, heads=2, bricks=[dict(region=4, patch=2, depth=1), dict(region=8, patch=4, depth=1),
                                       dict(region=16, patch=2, depth=1)]),
    "tiny-deep": dict(d=32, heads=2, bricks=[dict(region=4, patch=2, depth=1), dict(region=8, patch=4, depth=1),
                                            dict(region=16, patch=2, depth=3)]),  # tiny, grown
    "tiny-64": dict(d=32, heads=2, canvas_unit=16,  # tiny with a brick of 64×64 regions on top
                    bricks=[dict(region=4, patch=2, depth=1), dict(region=8, patch=4, depth=1),
                            dict(region=16, patch=2, depth=1), dict(region=64, patch=4, depth=1)]),
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
                   "(e.g. public/models/lego-emoji-32 on a fresh machine); a shallower stack of the same shape "
                   "is grown into the preset without changing what it computes (train/grow.py)")
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
    g.add_argument("--lower-lr", type=float, default=0.0,
                   help="for a model with bricks of regions larger than its canvas unit (lego-s64): the lr factor of "
                        "the bricks up to the unit and of the conditioning they share; 0 freezes them, so the model "
                        "on canvases that the larger bricks do not fit stays exactly what it was")
    g.add_argument("--warmup", type=int, default=500, help="linear warm-up steps of a fresh optimiser")
    g.add_argument("--decay-images", type=float, default=float("inf"),
                   help="past this many images the lr decays as 1/√(images/N) (EDM2's schedule; no end to plan)")
    g.add_argument("--cooldown", type=float, default=0.0,
                   help="lr falls linearly to 0 over this last fraction of the run (--max-minutes or --max-images): "
                        "for a run that ends in a ship; windows that go on later keep the lr flat")
    g.add_argument("--ema", type=float, default=0.999)
    g.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True, help="bf16 autocast")
    g = ap.add_argument_group("speed")
    g.add_argument("--compile", action="store_true", help="torch.compile each brick (PyTorch ≥ 2.2)")
    g.add_argument("--compile-cache", type=Path,
                   help="compiled-code cache: loaded before compiling if the file exists (same PyTorch, Triton and "
                        "GPU model only), written after the profile and at the end (torch.compiler's cache artifacts)")
    g.add_argument("--compile-cache-out", type=Path, help="where to write the cache (default: --compile-cache)")
    g.add_argument("--data-device", help="where the dataset lives and batches are drawn (default: --device); "
                   "cpu on a GPU machine builds each batch on the host and copies it, as the trainer once did")
    g.add_argument("--short-attention", type=int, default=SHORT_TOKENS,
                   help="regions of at most this many tokens attend by matmul + softmax, longer ones through SDPA; "
                        "0: SDPA for all (the old path)")
    g.add_argument("--profile-steps", type=int, default=0,
                   help="after --profile-after steps: time this many steps, then run as many under torch.profiler")
    g.add_argument("--profile-after", type=int, default=10, help="steps of this process before the profile")
    g.add_argument("--profile-out", type=Path, help="file the profile report is appended to (default: the run's)")
    g.add_argument("--profile-label", default="", help="what the profiled path is, for the report")
    g.add_argument("--profile-only", action="store_true", help="exit after the profile, saving nothing else")
    g.add_argument("--peak-tflops", type=float, help=f"for MFU (default on cuda: {H200_BF16_TFLOPS}, H200 dense bf16)")
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
    g.add_argument("--canvas", type=int, choices=(32, 64), default=CANVAS,
                   help="training images: the dataset's 32×32 images or its 64×64 renders")
    g.add_argument("--crop64", type=float, default=0.0, help="fraction of 32×32 crops of 64×64 images")
    return ap.parse_args(argv)


def nchw(images_u8, device):
    """(N, H, W, 3) uint8 numpy → (N, 3, H, W) uint8 tensor on device."""
    return torch.from_numpy(np.ascontiguousarray(images_u8)).permute(0, 3, 1, 2).contiguous().to(device)


class Batcher:
    """Random training batches drawn on `device`, where the training images (uint8) and their
    multi-hot labels are kept: indices, crops and label drops come from `gen` there, so on a GPU no
    step waits for host work or a copy, and every batch has the same shapes.

    Images are canvas×canvas with whole-canvas coordinates or, for a fraction --crop64 of them,
    canvas×canvas crops of the 64×64 renders that carry the crop's coordinates on that canvas."""

    def __init__(self, data: EmojiData, args, gen: torch.Generator, device, canvas=CANVAS):
        self.a, self.gen, self.device, self.canvas = args, gen, device, canvas
        rows = data.train_rows
        self.x = nchw(getattr(data, f"x{canvas}")[rows], device)
        self.y = torch.from_numpy(data.labels(rows)).to(device, torch.uint8)
        groups = list(data.label_groups().items())
        self.group_of = torch.empty(data.label_dim, dtype=torch.long)  # each label column's group
        self.col_drop = torch.zeros(data.label_dim)  # each column's own drop probability: words only
        for g, (name, (lo, hi)) in enumerate(groups):
            self.group_of[lo:hi] = g
            if name == "words":
                self.col_drop[lo:hi] = args.word_drop
        self.group_of, self.col_drop = self.group_of.to(device), self.col_drop.to(device)
        self.n_groups = len(groups)
        self.coord = coords(canvas, canvas, device=device)[None]
        self.big = None
        if args.crop64 > 0:
            if canvas >= 64:
                raise ValueError(f"--crop64 cuts {canvas}×{canvas} crops from the 64×64 renders: needs a canvas < 64")
            self.big = nchw(data.x64[rows], device)

    def crops(self, idx):
        """canvas×canvas windows of the 64×64 images idx at random offsets, and their coordinates."""
        n, c, S, dev = len(idx), self.canvas, self.big.shape[-1], self.device
        r0, c0 = torch.randint(0, S - c + 1, (2, n), generator=self.gen, device=dev)
        rows = r0[:, None] + torch.arange(c, device=dev)  # (n, c)
        cols = c0[:, None] + torch.arange(c, device=dev)
        ch = torch.arange(3, device=dev)[None, :, None, None]
        x = self.big[idx[:, None, None, None], ch, rows[:, None, :, None], cols[:, None, None, :]]
        coord = torch.stack([((2 * rows + 1) / S - 1)[:, :, None].expand(n, c, c),
                             ((2 * cols + 1) / S - 1)[:, None, :].expand(n, c, c)], dim=1)
        return x, coord

    def labels(self, idx):
        a, g, dev, n = self.a, self.gen, self.device, len(idx)
        keep = torch.rand(n, self.n_groups, generator=g, device=dev)[:, self.group_of] >= a.group_drop
        keep &= torch.rand(n, len(self.col_drop), generator=g, device=dev) >= self.col_drop
        keep &= torch.rand(n, 1, generator=g, device=dev) >= a.label_drop
        return self.y[idx].float() * keep

    def __call__(self, n):
        """x (n, 3, c, c) in [-1, 1], labels (n, L), coordinates (n or 1, 2, c, c)."""
        idx = torch.randint(0, len(self.x), (n,), generator=self.gen, device=self.device)
        x, coord = self.x[idx], self.coord
        if self.big is not None:
            cx, ccoord = self.crops(idx)
            crop = torch.rand(n, generator=self.gen, device=self.device)[:, None, None, None] < self.a.crop64
            x, coord = torch.where(crop, cx, x), torch.where(crop, ccoord, coord)
        return x.float() / 127.5 - 1, self.labels(idx), coord


def tiling_shifts(bricks, gen, p, roll_canvas=False, canvas=CANVAS):
    """Per brick, a random region-grid offset (sy, sx) with probability p, else (0, 0), as a tensor
    on gen's device (a compiled brick then sees the same graph every step); None, never rolled, for
    a brick whose one region is the whole canvas (unless roll_canvas): rolling it shows it emoji cut
    and wrapped around, which sampling at that size never does."""
    dev = gen.device
    out = []
    for b in bricks:
        if b.region >= canvas and not roll_canvas:
            out.append(None)
            continue
        offset = torch.randint(0, b.region, (2,), generator=gen, device=dev)
        out.append(offset * (torch.rand(1, generator=gen, device=dev) < p))
    return out


def edm_loss(model, x, y, coord, active, shifts, gen, trained=None):
    """Mean over the active bricks (those of `trained` only, if given) of the EDM-weighted denoising
    loss; also each active brick's loss."""
    B = x.shape[0]
    sigma = torch.exp(torch.randn(B, generator=gen, device=x.device) * 1.2 - 1.2)
    noisy = x + torch.randn(x.shape, generator=gen, device=x.device) * sigma[:, None, None, None]
    weight = (sigma ** 2 + SIGMA_DATA ** 2) / (sigma * SIGMA_DATA) ** 2
    outs = model(noisy, sigma, y, active=active, coord=coord, shifts=shifts)
    per = {k: (weight * ((D.float() - x) ** 2).mean(dim=(1, 2, 3))).mean() for k, D in outs}
    learn = [v for k, v in per.items() if trained is None or k in trained]
    return sum(learn) / len(learn), per


def param_groups(model, lower_lr):
    """Parameter groups and the bricks that train. A model with bricks of regions larger than its canvas
    unit trains everything else (the bricks up to the unit and the conditioning that all bricks share) at
    lower_lr × the lr, and lower_lr = 0 freezes it; any other model trains everything alike."""
    cfg = model.cfg
    large = {k for k, b in enumerate(cfg.bricks) if b.region > cfg.canvas_unit}
    if not large or lower_lr == 1:
        return [dict(params=list(model.parameters()), lr_scale=1.0)], set(range(len(cfg.bricks)))
    top, lower = [], []
    for name, p in model.named_parameters():
        (top if name.startswith("bricks.") and int(name.split(".")[1]) in large else lower).append(p)
    if lower_lr == 0:
        for p in lower:
            p.requires_grad_(False)
        return [dict(params=top, lr_scale=1.0)], large
    return [dict(params=top, lr_scale=1.0), dict(params=lower, lr_scale=lower_lr)], set(range(len(cfg.bricks)))


def learning_rate(a, step, warm_from, images, progress):
    """a.lr after a linear warm-up of a.warmup steps from warm_from (a fresh optimiser), flat after it
    (windows that add up); optionally EDM2's 1/√(images / --decay-images), and a linear fall to 0 over
    the last --cooldown fraction of the run (progress: the fraction done, 0…1)."""
    warm = min(1.0, (step - warm_from + 1) / a.warmup)
    decay = 1 / math.sqrt(max(1.0, images / a.decay_images))
    cool = min(1.0, max(0.0, (1 - progress) / a.cooldown)) if a.cooldown else 1.0
    return a.lr * warm * decay * cool


def compile_bricks(model, cache: Path | None):
    """torch.compile each brick's forward (and so its backward) on its own; loads the cache first."""
    if not hasattr(torch.nn.Module, "compile"):
        sys.exit(f"error: --compile needs PyTorch ≥ 2.2 (this is {torch.__version__})")
    if cache and cache.is_file():
        info = torch.compiler.load_cache_artifacts(gzip.decompress(cache.read_bytes()))
        kinds = {k: len(v) for k, v in getattr(info, "artifacts", {}).items()}
        print(f"compile cache {cache} loaded ({cache.stat().st_size / 2 ** 20:.1f} MiB): {kinds}", flush=True)
    for brick in model.bricks:
        brick.compile()


def save_compile_cache(path: Path):
    """The compiled code of this process, gzipped (on the CPU 12.3 MiB → 1.4 MiB): it travels both ways."""
    saved = torch.compiler.save_cache_artifacts()
    if saved:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(gzip.compress(saved[0]))
        os.replace(tmp, path)
        mib = len(saved[0]) / 2 ** 20, path.stat().st_size / 2 ** 20
        print(f"compile cache → {path} ({mib[0]:.1f} MiB, {mib[1]:.1f} gzipped)", flush=True)


def profile(step, n, batch, device, flops, peak_tflops, label, path, started):
    """Times n steps (synchronised), runs n more under torch.profiler, appends both to path. flops: per
    trained image, forward and backward; started: time.time() at the process's start (the report says
    how long start-up and compiling took)."""
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    sync()
    ready = time.time() - started
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    sync()
    seconds = time.perf_counter() - t0
    ips = n * batch / seconds
    tflops = ips * flops / 1e12
    mfu = f", MFU {100 * tflops / peak_tflops:.1f}% of {peak_tflops:g} TFLOP/s" if peak_tflops else ""
    acts = [torch.profiler.ProfilerActivity.CPU] + ([torch.profiler.ProfilerActivity.CUDA] if cuda else [])
    with torch.profiler.profile(activities=acts) as prof:
        for _ in range(n):
            step()
        sync()
    table = prof.key_averages().table(sort_by="self_cuda_time_total" if cuda else "self_cpu_time_total",
                                      row_limit=30)
    headline = (f"{label}: {n} steps × {batch} in {seconds:.2f} s = {ips:,.0f} images/s, "
                f"{tflops:.2f} TFLOP/s ({flops / 1e9:.2f} GFLOP per trained image){mfu}; "
                f"timed from {ready:.0f} s after the process started")
    with open(path, "a") as f:
        f.write(f"== {headline}\n== then {n} steps under torch.profiler:\n{table}\n\n")
    print(f"profile: {headline} → {path}", flush=True)
    return ips


def atomic_save(obj, path):
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def initialise(a, cfg, model, ema, main_proc):
    """Loads --init's exported weights into model and EMA (grown into the preset if they are a
    shallower stack of its shape); returns the carried training state."""
    init, meta = load_exported(a.init)
    t = meta.get("training", {})
    state = dict(step=t.get("steps", 0), images=t.get("images_seen", 0), seconds=t.get("hours", 0) * 3600,
                 grown=list(t.get("grown", [])))
    if init.cfg.to_dict() != cfg.to_dict():
        depths = [b.depth for b in init.cfg.bricks]
        try:
            init = grow(init, cfg)
        except ValueError as e:
            sys.exit(f"error: {a.init} cannot start preset {a.preset}: {e}")
        state["grown"].append(dict(images=state["images"], preset=t.get("preset"), depths=depths))
        if main_proc:
            print(f"grew {a.init} ({t.get('preset')}) into {a.preset}: added blocks start as identities, "
                  f"added bricks afresh")
    model.load_state_dict(init.state_dict())
    ema.load_state_dict(init.state_dict())
    if main_proc:
        print(f"initialised from {a.init}: {state['images']:,} images seen (optimiser state starts afresh)")
    return state


def main(argv=None):
    t_process = time.time()
    a = parse_args(argv)
    ddp = "WORLD_SIZE" in os.environ
    rank, world = 0, 1
    if ddp:
        dist.init_process_group("nccl" if a.device == "cuda" else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if a.device == "cuda" else "cpu")
    data_device = torch.device(a.data_device) if a.data_device else device
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
    for m in model.modules():
        if isinstance(m, Attention):
            m.short = a.short_attention
    groups, trained = param_groups(model, a.lower_lr)
    opt = torch.optim.Adam(groups, lr=a.lr, betas=(0.9, 0.99), fused=a.device == "cuda")
    state = dict(step=0, images=0, seconds=0.0)
    warm_from = 0  # the step the learning-rate warm-up counts from: a fresh optimiser warms up again
    if ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location=device, weights_only=False)
        if LegoConfig(**ck["config"]).to_dict() != cfg.to_dict():
            sys.exit(f"error: {ckpt_path} holds another architecture; use another --name")
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        try:
            opt.load_state_dict(ck["opt"])  # restores its groups' settings too: this run's lr factors win
        except ValueError as e:
            sys.exit(f"error: {ckpt_path}'s optimiser trains other parameters (another --lower-lr?): {e}")
        for pg, g in zip(opt.param_groups, groups):
            pg["lr_scale"] = g["lr_scale"]
        state = ck["state"]
        if main_proc:
            print(f"resumed {ckpt_path}: step {state['step']}, {state['images']:,} images")
    elif a.init:  # no checkpoint (a fresh machine): continue from exported weights, with a fresh optimiser
        state = initialise(a, cfg, model, ema, main_proc)
        warm_from = state["step"]
    n_params = sum(p.numel() for p in model.parameters())
    n_trained = sum(p.numel() for g in groups for p in g["params"])
    c = a.canvas
    if main_proc:
        print(f"{a.name}: preset {a.preset}, {n_params / 1e6:.2f} M params ({n_trained / 1e6:.2f} M trained, bricks "
              f"{sorted(k + 1 for k in trained)}), {cfg.flops(c, c) / 1e9:.2f} GFLOP per {c}×{c} evaluation, "
              f"label dim {data.label_dim}, "
              f"bricks {[(b.region, b.patch, b.depth) for b in cfg.bricks]}, device {device}, world {world}, "
              f"torch {torch.__version__}, data on {data_device}, compile {a.compile}, "
              f"attention by matmul up to {a.short_attention} tokens")
    cache_out = (a.compile_cache_out or a.compile_cache) if a.compile else None
    if a.compile:
        compile_bricks(model, a.compile_cache)
    net = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True) if ddp else model

    seed = a.seed + 1000 * rank + state["step"]
    rng = np.random.default_rng(seed)  # brick drops: decided in Python, on the host, without a device sync
    gen = torch.Generator(device=device).manual_seed(seed)
    batcher = Batcher(data, a, torch.Generator(device=data_device).manual_seed(seed + 1), data_device, c)
    local_batch = a.batch // world
    runs = [k for k, b in enumerate(cfg.bricks) if fits(b.region, c, c)]  # the bricks that run on the canvas
    if not trained & set(runs):
        sys.exit(f"error: every brick that trains is too large for the {c}×{c} canvas: use a larger --canvas "
                 "or --lower-lr > 0")
    t_start = time.time()
    last_ckpt = last_sample = last_snapshot = t_start
    seconds0, images0 = state["seconds"], state["images"]
    window = dict(t=time.time(), images=0, loss={})
    autocast = torch.autocast("cpu" if a.device == "cpu" else "cuda", dtype=torch.bfloat16, enabled=a.bf16)
    ema_params, params = list(ema.parameters()), list(model.parameters())
    lr = a.lr
    steps_here = 0  # steps of this process
    logged = state["step"] // a.log_every  # progress lines at multiples of --log-every steps

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
        noise = torch.randn(len(cats), 3, c, c, generator=g).to(device)
        x = sample(ema, noise, y.to(device), steps=18, cfg_scale=2.0)[-1]
        path = run / f"samples_{state['images']:09d}.png"
        save_grid(x, path, ncol=8)
        return path

    def active_bricks():
        if a.compile and steps_here < len(runs):
            # the first steps run bricks k… only, so each compiled brick meets both of its inputs (the brick
            # below's output, and zeros when every brick below is dropped) before anything is timed
            return runs[steps_here:]
        on = [k for k in runs if rng.random() >= a.brick_drop] or [runs[int(rng.integers(len(runs)))]]
        return on if trained & set(on) else sorted(set(on) | (trained & set(runs)))  # a step that trains something

    def step():
        nonlocal steps_here
        x, y, coord = (t.to(device) for t in batcher(local_batch))
        with autocast:
            shifts = tiling_shifts(cfg.bricks, gen, a.roll, a.roll_canvas, c)
            loss, per = edm_loss(net, x, y, coord, active_bricks(), shifts, gen, trained)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        decay = min(a.ema, (1 + state["step"]) / (10 + state["step"]))
        with torch.no_grad():
            if hasattr(torch, "_foreach_lerp_"):  # one kernel for all parameters (PyTorch ≥ 2.0)
                torch._foreach_lerp_(ema_params, params, 1 - decay)
            else:
                for pe, pm in zip(ema_params, params):
                    pe.lerp_(pm, 1 - decay)
        state["step"] += 1
        state["images"] += a.batch
        window["images"] += a.batch
        steps_here += 1
        for k, v in per.items():  # kept on the device: no sync per step
            window["loss"].setdefault(k, []).append(v.detach())

    def log(now):
        """A progress line (stdout and log.jsonl) for the steps since the last one."""
        nonlocal window
        ips = window["images"] / (now - window["t"])
        losses = {k: float(torch.stack(v).float().mean()) for k, v in sorted(window["loss"].items())}
        mean = float(np.mean([v for k, v in losses.items() if k in trained]))  # what the optimiser sees
        line = " ".join(f"b{k}={v:.4f}" for k, v in losses.items())
        print(f"step {state['step']:7d} | {state['images']:>10,} img | {ips:5.1f} img/s | "
              f"loss {mean:.4f} | {line} | lr {lr:.1e} | {state['seconds'] / 3600:.2f} h", flush=True)
        with open(run / "log.jsonl", "a") as f:
            f.write(json.dumps(dict(step=state["step"], images=state["images"], seconds=state["seconds"],
                                    ips=ips, loss=mean, bricks=losses, lr=lr, batch=a.batch,
                                    device=device_name)) + "\n")
        window = dict(t=now, images=0, loss={})

    def progress():
        """The fraction of this run done, by time or by images, whichever is further."""
        return max((time.time() - t_start) / 60 / a.max_minutes,
                   (state["images"] - images0) / max(1.0, a.max_images - images0))

    stop = []  # SIGTERM/SIGINT: finish the step, save the checkpoint, exit
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(True))
    cpu0 = time.process_time()
    while (not stop and state["images"] < a.max_images and (time.time() - t_start) / 60 < a.max_minutes
           and (time.process_time() - cpu0) / 60 < a.max_cpu_minutes):
        lr = learning_rate(a, state["step"], warm_from, state["images"], progress())
        for pg in opt.param_groups:
            pg["lr"] = lr * pg["lr_scale"]
        if a.profile_steps and steps_here == a.profile_after:
            peak = a.peak_tflops or (H200_BF16_TFLOPS if device.type == "cuda" else None)
            label = a.profile_label or f"{a.preset}, compile {a.compile}, data on {data_device}"
            label += f" (torch {torch.__version__}, {device_name})"
            flops = cfg.flops(c, c) + 2 * cfg.flops(c, c, only=trained)  # forward, and backward ≈ 2 forwards
            profile(step, a.profile_steps, a.batch, device, flops, peak, label,
                    a.profile_out or run / "profile.txt", t_process)
            if cache_out and main_proc:
                save_compile_cache(cache_out)
            if a.profile_only:
                return
        else:
            step()
        now = time.time()
        state["seconds"] = seconds0 + now - t_start
        if main_proc and state["step"] // a.log_every > logged:
            logged = state["step"] // a.log_every
            log(now)
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
        if window["images"]:
            log(time.time())
        save()
        if cache_out:
            save_compile_cache(cache_out)
        print(f"done: {state['images']:,} images, checkpoint {ckpt_path}")
    if ddp:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
