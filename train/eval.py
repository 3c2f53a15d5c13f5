"""Quality of a LEGO model, judged by the emoji category CNN (train/judge.py).

    /usr/bin/python3 -m train.eval skip        # FID-emoji / accuracy / time vs brick skipping
    /usr/bin/python3 -m train.eval prompts     # prompt words vs category picker
    /usr/bin/python3 -m train.eval efficiency --runs lego-emoji-32 dit-baseline
    /usr/bin/python3 -m train.eval progress --runs lego-emoji-32  # quality vs images seen
    /usr/bin/python3 -m train.eval crops --runs lego-emoji-32 lego-emoji-32-nocrop  # 64×64 crops A/B
    /usr/bin/python3 -m train.eval grid        # docs/samples.png, a row per category
    /usr/bin/python3 -m train.eval fit         # each brick's denoising error on training and held-out emoji
    /usr/bin/python3 -m train.eval ablations --runs-dir runs-abl --runs pg lego-s  # runs at equal CPU time
    /usr/bin/python3 -m train.eval size64 --model M64 --base M32  # a 64×64 model beside its base, 32 and 64
    /usr/bin/python3 -m train.eval skip --size 64 --model M64     # the skip curve of the 64×64 brick
    /usr/bin/python3 -m train.eval edit        # held-out emoji restyled into the other styles (docs/eval/edit.md)
    /usr/bin/python3 -m train.eval repaint     # RePaint's resampling against the plain sampler (docs/eval/edit.md)

Samples come from the PyTorch reference (the engine matches it, see test/engine); all settings
of one command share the same noise, so their differences are the settings'. Results go to
docs/eval/ as JSON, a markdown table and a plot. The judge sees 32×32 images: 64×64 samples (and the
real 64×64 renders they are compared with) are area-downsampled to 32×32 first.
"""
import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from train.card import table
from train.dataset import EmojiData, ROOT
from train.export import load, load_ema
from train.images import save_grid
from train.judge import accuracy, features, frechet, held_out_mask, images, load_judge
from train.lego import ROLLED, edit_steps, edm_sigmas, sample

OUT = ROOT / "docs" / "eval"
PROMPTS = {"cat": "Animals & Nature", "dog": "Animals & Nature", "pizza": "Food & Drink",
           "cake": "Food & Drink", "airplane": "Travel & Places", "car": "Travel & Places",
           "heart": "Smileys & Emotion", "face": "Smileys & Emotion", "flag": "Flags", "ball": "Activities"}


class Judged:
    """Judge + reference features of the real images, computed once."""

    def __init__(self, data: EmojiData):
        self.data = data
        self.judge, self.judge_acc = load_judge(data)
        real = images(data, np.arange(len(data.cat)))
        self.real_feats = features(self.judge, real)
        held = held_out_mask(data)
        self.ceiling = {"accuracy": accuracy(self.judge, real[held], torch.from_numpy(data.cat[held])),
                        "fid": frechet(features(self.judge, real[held]), self.real_feats),
                        "n": int(held.sum())}

    def score(self, x, cats):
        x = area_down(x.clamp(-1, 1))
        return {"fid": frechet(features(self.judge, x), self.real_feats),
                "accuracy": accuracy(self.judge, x, cats)}

    def ceiling64(self):
        """The held-out real emoji's 64×64 renders, area-downsampled, scored as samples are (the ceiling at 64)."""
        held = held_out_mask(self.data)
        return {**self.score(images64(self.data, np.flatnonzero(held)), torch.from_numpy(self.data.cat[held])),
                "n": int(held.sum())}


def area_down(x, side=32):
    """Canvases (B, 3, S, S) → side×side by area averaging (what the dataset did to its 64×64 renders)."""
    f = x.shape[-1] // side
    return torch.nn.functional.avg_pool2d(x, f) if f > 1 else x


def images64(data, idx):
    """The dataset's 64×64 renders of rows idx as (N, 3, 64, 64) in [-1, 1]."""
    return torch.from_numpy(data.x64[idx]).permute(0, 3, 1, 2).float() / 127.5 - 1


def seam_ratio(x, at=32):
    """Mean |step| between pixel rows and columns at-1 and at (where 32×32 regions meet on a 64×64 canvas)
    over the mean |step| between all neighbouring rows and columns: about 1 without seams, above 1 with."""
    x = x.clamp(-1, 1)
    dy, dx = (x[:, :, 1:] - x[:, :, :-1]).abs(), (x[..., 1:] - x[..., :-1]).abs()
    seam = (dy[:, :, at - 1].mean() + dx[..., at - 1].mean()) / 2
    return float(seam / ((dy.mean() + dx.mean()) / 2))


def category_labels(data, cats, style=None):
    y = torch.zeros(len(cats), data.label_dim)
    y[torch.arange(len(cats)), cats] = 1
    if style is not None:
        y[:, data.n_cat + style] = 1
    return y


def rolled_on_odd_steps(i):
    """The engines' default tiling (shiftTiling): the rolled tiling on odd steps (train/lego.py rolled_shifts)."""
    return ROLLED if i % 2 else None


def run_samples(model, noise, y, steps, cfg, active_at=None, shift_at=None, batch=128):
    t0 = time.time()
    out = [sample(model, noise[i:i + batch], y[i:i + batch], steps=steps, cfg_scale=cfg, active_at=active_at,
                  shift_at=shift_at)[-1]
           for i in range(0, len(noise), batch)]
    return torch.cat(out), time.time() - t0


def write_table(name, header, rows, note=""):
    OUT.mkdir(parents=True, exist_ok=True)
    md = table(header, rows)
    (OUT / f"{name}.md").write_text((note + "\n\n" if note else "") + "\n".join(md) + "\n")
    print("\n".join(md))


def plot(name, panels, title, logx=False):
    """panels: [(xlabel, ylabel, {series label: (xs, ys)})], one subplot each → docs/eval/<name>.png."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4))
    for ax, (xlabel, ylabel, series) in zip(np.atleast_1d(axes), panels):
        for label, (x, y) in series.items():
            ax.plot(x, y, marker="o", markersize=3, label=label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if logx:
            ax.set_xscale("log")
        if len(series) > 1:
            ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(OUT / f"{name}.png", dpi=110)


def skip_curve(a, data, judged):
    """docs/eval/skip_curve.* (skip_curve64.* with --size 64): FID-emoji, accuracy and time with the top brick
    skipped for the last fraction of the steps, and with each other brick off, on size×size canvases."""
    model, meta = load(a.model)
    n_bricks = len(model.bricks)
    top = n_bricks - 1
    g = torch.Generator().manual_seed(a.seed)
    cats = torch.arange(data.n_cat).repeat_interleave(a.per_class)
    noise = torch.randn(len(cats), 3, a.size, a.size, generator=g)
    suffix = "" if a.size == 32 else str(a.size)
    y = category_labels(data, cats)
    settings = [(f"top brick skipped for last {f:.0%}", f, None) for f in a.fractions]
    settings += [(f"brick {k + 1} off", None, k) for k in range(n_bricks - 1)]
    rows, results = [], []
    base_time = None
    for label, frac, off in settings:
        if off is not None:
            active_at = lambda i, off=off: [k for k in range(n_bricks) if k != off]
        else:
            active_at = lambda i, frac=frac: [k for k in range(n_bricks) if k != top or i / a.steps < 1 - frac - 1e-9]
        x, secs = run_samples(model, noise, y, a.steps, a.cfg, active_at, rolled_on_odd_steps)
        s = judged.score(x, cats)
        base_time = base_time or secs
        r = {"setting": label, "skip_fraction": frac, "brick_off": off, **s, "seconds": secs,
             "time_ratio": secs / base_time}
        results.append(r)
        rows.append([label, f"{s['fid']:.2f}", f"{s['accuracy']:.3f}", f"{secs:.1f}", f"{secs / base_time:.2f}"])
        print(r, flush=True)
        if frac in (0.0, 0.5, 1.0) or off is not None:
            name = f"skip_{label.replace(' ', '_').replace('%', '')}{suffix}.png"
            save_grid(x[:: a.per_class // 4 or 1][:36], OUT / name, ncol=9)
    note = (f"Model `{meta['name']}` ({meta.get('training', {}).get('images_seen', '?'):,} images seen), "
            f"{len(cats)} samples ({a.per_class} per category) of {a.size}×{a.size}"
            f"{' (area-downsampled to 32×32 for the judge)' if a.size > 32 else ''}, EDM Heun {a.steps} steps, "
            f"guidance {a.cfg}. "
            f"Judge held-out accuracy {judged.ceiling['accuracy']:.3f}; FID-emoji of the {judged.ceiling['n']} "
            f"held-out real images against all real images: {judged.ceiling['fid']:.2f} (the ceiling). "
            f"Time is PyTorch CPU sampling time for the whole set.")
    header = ["setting", "FID-emoji ↓", "accuracy ↑", "seconds", "time ÷ unskipped"]
    write_table(f"skip_curve{suffix}", header, rows, note)
    (OUT / f"skip_curve{suffix}.json").write_text(json.dumps(
        {"ceiling": judged.ceiling, "model": meta["name"], "size": a.size, "training": meta.get("training"),
         "results": results}, indent=1))
    curve = [r for r in results if r["skip_fraction"] is not None]
    xs = [r["skip_fraction"] for r in curve]
    x = "fraction of steps with the top brick skipped"
    plot(f"skip_curve{suffix}", [(x, key, {meta["name"]: (xs, [r[k] for r in curve])})
                                  for key, k in [("FID-emoji", "fid"), ("accuracy", "accuracy"),
                                                 ("time ÷ unskipped", "time_ratio")]],
         f"{meta['name']}: skipping the top brick at {a.size}×{a.size}")


PROMPT_CATEGORY_SHARE = 0.5  # src/model/labels.ts PROMPT_CATEGORY_SHARE


def prompt_category(labels, words):
    """The category a prompt's words name (src/model/labels.ts promptCategory, the same rule): each word with
    counts in labels["word_categories"] votes with its shares per category; the highest mean share is taken
    if it reaches PROMPT_CATEGORY_SHARE. None without such a category (or without word_categories)."""
    table = labels.get("word_categories")
    counts = [np.array(table[labels["vocab"].index(w)], float) for w in words if table and w in labels["vocab"]]
    shares = [c / c.sum() for c in counts if c.sum() > 0]
    if not shares:
        return None
    mean = np.mean(shares, axis=0)
    return int(mean.argmax()) if mean.max() >= PROMPT_CATEGORY_SHARE else None


def prompts(a, data, judged):
    """Each prompt word three ways, from the same noise: the word alone, the word with the category it names
    (what the page and the CLI send when no category is picked), and the category picker alone."""
    model, meta = load(a.model)
    labels = meta["labels"]
    w0 = data.n_cat + data.n_style
    g = torch.Generator().manual_seed(a.seed)
    rows, results, grids = [], [], []
    for word, cat_name in PROMPTS.items():
        if word not in labels["vocab"]:
            print(f"skip prompt {word!r}: not in the vocabulary")
            continue
        cat = data.info["categories"].index(cat_name)
        named = prompt_category(labels, [word])
        noise = torch.randn(a.per_class, 3, 32, 32, generator=g)
        cats = torch.full((a.per_class,), cat)
        y_word = torch.zeros(a.per_class, data.label_dim)
        y_word[:, w0 + labels["vocab"].index(word)] = 1
        y_page = y_word.clone()
        if named is not None:
            y_page[:, named] = 1
        acc = {}
        for how, y in (("word", y_word), ("page", y_page), ("category", category_labels(data, cats))):
            x, _ = run_samples(model, noise, y, a.steps, a.cfg)
            acc[how] = accuracy(judged.judge, x.clamp(-1, 1), cats)
            if how == "page":
                grids.append(x[:8])
        named_name = labels["categories"][named] if named is not None else "none"
        results.append({"prompt": word, "category": cat_name, "prompt_category": named_name,
                        "accuracy_word": acc["word"], "accuracy_prompt": acc["page"], "accuracy_category": acc["category"]})
        rows.append([f'"{word}"', cat_name, named_name, *(f"{acc[h]:.3f}" for h in ("word", "page", "category"))])
        print(results[-1], flush=True)
    means = [float(np.mean([r[k] for r in results])) for k in ("accuracy_word", "accuracy_prompt", "accuracy_category")]
    rows.append(["**mean**", "", "", *(f"{m:.3f}" for m in means)])
    note = (f"Model `{meta['name']}`; {a.per_class} samples per prompt, Heun {a.steps} steps, guidance {a.cfg}, the same "
            "noise in each column. Accuracy: how often the judge puts a sample in the category of the emoji its word "
            "names (the 'category' column). 'word alone': the word, no category, no style. 'prompt': what the page "
            "and the CLI send for the prompt with no category picked: the word and the category it names "
            "(`labels.word_categories`: the category most of the training emoji with that word in their name have, "
            f"if at least {PROMPT_CATEGORY_SHARE:.0%} of them). 'category picker': the category alone. "
            "Grid `prompts.png`: the 'prompt' samples, one row per prompt, in table order.")
    write_table("prompts", ["prompt", "category", "category the prompt names", "accuracy (word alone)",
                            "accuracy (prompt)", "accuracy (category picker)"], rows, note)
    (OUT / "prompts.json").write_text(json.dumps({"model": meta["name"], "results": results}, indent=1))
    save_grid(torch.cat(grids), OUT / "prompts.png", ncol=8)


def score_snapshots(a, run, judged, final_only=False):
    """FID-emoji and accuracy of a run's EMA snapshots (runs/<run>/ema_*.pt) and its checkpoint,
    all sampled from the same noise and labels."""
    g = torch.Generator().manual_seed(a.seed)
    cats = torch.arange(judged.data.n_cat).repeat_interleave(a.per_class)
    noise = torch.randn(len(cats), 3, 32, 32, generator=g)
    y = category_labels(judged.data, cats)
    snaps = [] if final_only else sorted((ROOT / "runs" / run).glob("ema_*.pt"))
    ckpt = ROOT / "runs" / run / "ckpt.pt"
    pts = []
    for path in snaps + ([ckpt] if ckpt.exists() else []):
        model, ck = load_ema(path)
        if any(p["images"] == ck["state"]["images"] for p in pts):
            continue  # a snapshot taken with the checkpoint
        x, secs = run_samples(model, noise, y, a.steps, a.cfg)
        st = ck["state"]
        pts.append({"images": st["images"], "hours": st["seconds"] / 3600, **judged.score(x, cats),
                    "sample_seconds": secs, "n": len(cats)})
        print(run, pts[-1], flush=True)
    return pts


def efficiency(a, data, judged):
    series_h, series_i, series_loss, out, rows = {}, {}, {}, {}, []
    for run in a.runs:
        pts = out[run] = score_snapshots(a, run, judged, a.final_only)
        rows += [[run, f"{p['images']:,}", f"{p['hours']:.2f}", f"{p['fid']:.2f}", f"{p['accuracy']:.3f}",
                  f"{p['sample_seconds']:.1f}"] for p in pts]
        series_h[run] = ([p["hours"] for p in pts], [p["fid"] for p in pts])
        series_i[run] = ([p["images"] for p in pts], [p["fid"] for p in pts])
        log = [json.loads(l) for l in (ROOT / "runs" / run / "log.jsonl").read_text().splitlines()]
        top = max(log[-1]["bricks"])  # the brick whose output is the sample
        series_loss[run] = ([r["seconds"] / 3600 for r in log], [r["bricks"][top] for r in log])
    note = (f"FID-emoji of {9 * a.per_class} samples (Heun {a.steps} steps, guidance {a.cfg}) from EMA snapshots of each "
            "run, against training hours and images seen on this 2-core CPU (shared with other work, so hours are "
            "noisy). Sampling seconds: the whole set in PyTorch on the CPU.")
    write_table("efficiency", ["run", "images seen", "hours", "FID-emoji ↓", "accuracy ↑", "sampling s"], rows, note)
    (OUT / "efficiency.json").write_text(json.dumps(out, indent=1))
    plot("efficiency", [("hours", "FID-emoji", series_h), ("images seen", "FID-emoji", series_i),
                        ("hours", "EDM loss of the output brick", series_loss)], "LEGO-PG against a single-brick DiT")


def progress(a, data, judged):
    """docs/eval/progress.*: quality of the shipped run's snapshots against images seen."""
    run = a.runs[0]
    pts = score_snapshots(a, run, judged)
    log = [json.loads(l) for l in (ROOT / "runs" / run / "log.jsonl").read_text().splitlines()]

    def device(images):  # where the images just before the snapshot were trained
        return [r.get("device", "cpu") for r in log if r["images"] <= images][-1]

    rows = [[f"{p['images']:,}", device(p["images"]), f"{p['fid']:.2f}", f"{p['accuracy']:.3f}"] for p in pts]
    c = judged.ceiling
    rows.append([f"held-out real images ({c['n']})", "", f"{c['fid']:.2f}", f"{c['accuracy']:.3f}"])
    note = (f"Run `{run}`: EMA snapshots, each drawing the same {pts[0]['n']} samples (a row per category, "
            f"Heun {a.steps} steps, guidance {a.cfg}), scored by the judge (train/judge.py). Device: where the "
            "images before the snapshot were trained (docs/training.md).")
    write_table("progress", ["images seen", "device", "FID-emoji ↓", "accuracy ↑"], rows, note)
    (OUT / "progress.json").write_text(json.dumps({"run": run, "points": pts, "ceiling": c}, indent=1))
    xs = [p["images"] for p in pts]
    plot("progress", [("images seen", "FID-emoji", {run: (xs, [p["fid"] for p in pts])}),
                      ("images seen", "judge accuracy", {run: (xs, [p["accuracy"] for p in pts])})],
         f"{run}: quality against images seen", logx=True)


def crops(a, data, judged):
    """docs/eval/crops.*: runs trained alike but for --crop64, compared at 32×32 and at 64×64 (the
    64×64 samples area-downsampled to 32×32, so both are scored against the same real images)."""
    g = torch.Generator().manual_seed(a.seed)
    cats = torch.arange(data.n_cat).repeat_interleave(a.per_class)
    n32 = torch.randn(len(cats), 3, 32, 32, generator=g)
    n64 = torch.randn(len(cats), 3, 64, 64, generator=g)
    y = category_labels(data, cats)
    rows, out = [], {}
    for run in a.runs:  # a run's name (its checkpoint) or a snapshot file (ema_<images>.pt)
        path = ROOT / "runs" / run / "ckpt.pt" if (ROOT / "runs" / run).is_dir() else Path(run)
        model, ck = load_ema(path)
        crop64 = ck["args"]["crop64"] if "args" in ck else "—"
        run = path.stem if path.name != "ckpt.pt" else run
        x32, _ = run_samples(model, n32, y, a.steps, a.cfg)
        x64, _ = run_samples(model, n64, y, a.steps, a.cfg, shift_at=rolled_on_odd_steps)
        s32, s64 = judged.score(x32, cats), judged.score(x64, cats)
        save_grid(x64, OUT / f"crops_{run}.png", ncol=a.per_class)
        out[run] = {"crop64": crop64, "images": ck["state"]["images"], "32": s32, "64": s64}
        rows.append([run, crop64, f"{ck['state']['images']:,}", f"{s32['fid']:.2f}",
                     f"{s32['accuracy']:.3f}", f"{s64['fid']:.2f}", f"{s64['accuracy']:.3f}"])
        print(run, out[run], flush=True)
    note = (f"{len(cats)} samples per size and run from the same noise (a row per category, Heun {a.steps} steps, "
            f"guidance {a.cfg}); 64×64 samples roll the tiling on odd steps, as the engines do, and are "
            "area-downsampled to 32×32 before the judge sees them. Grids: `crops_<run>.png`.")
    write_table("crops", ["run", "crop64", "images seen", "FID 32×32 ↓", "acc 32×32 ↑", "FID 64×64 ↓",
                          "acc 64×64 ↑"], rows, note)
    (OUT / "crops.json").write_text(json.dumps(out, indent=1))


def size64(a, data, judged):
    """docs/eval/size64.*: a model with a brick of 64×64 regions (--model) beside the model it grew from
    (--base), each drawing the same samples at 32×32 and at 64×64 (the engines' rolled tiling on odd steps),
    scored by the judge (64×64 area-downsampled), with the seam ratio at the 32-pixel lines; the held-out
    real emoji at both sizes. Grids (a row per category): samples64.png (--model), samples64_base.png."""
    g = torch.Generator().manual_seed(a.seed)
    cats = torch.arange(data.n_cat).repeat_interleave(a.per_class)
    y = category_labels(data, cats)
    noise = {32: torch.randn(len(cats), 3, 32, 32, generator=g), 64: torch.randn(len(cats), 3, 64, 64, generator=g)}
    real64 = images64(data, np.flatnonzero(held_out_mask(data)))
    out = {"ceiling": {"32": judged.ceiling, "64": {**judged.ceiling64(), "seam_ratio": seam_ratio(real64)}},
           "models": {}}
    rows = []
    for role, path in [("model", a.model), ("base", a.base)]:
        model, meta = load(path)
        res = {}
        for side, n in noise.items():
            x, secs = run_samples(model, n, y, a.steps, a.cfg, shift_at=rolled_on_odd_steps)
            res[side] = {**judged.score(x, cats), "seam_ratio": seam_ratio(x) if side == 64 else None,
                         "seconds_per_image": secs / len(cats)}
            if side == 64:
                save_grid(x, OUT / ("samples64.png" if role == "model" else "samples64_base.png"), ncol=a.per_class)
            print(meta["name"], side, res[side], flush=True)
        out["models"][meta["name"]] = {"role": role, "training": meta.get("training"), **res}
        rows += [[f"`{meta['name']}`", f"{side}×{side}", f"{r['fid']:.2f}", f"{r['accuracy']:.3f}",
                  f"{r['seam_ratio']:.2f}" if r["seam_ratio"] else "", f"{r['seconds_per_image']:.2f}"]
                 for side, r in res.items()]
    c = out["ceiling"]
    rows += [[f"held-out real emoji ({c['32']['n']})", "32×32", f"{c['32']['fid']:.2f}", f"{c['32']['accuracy']:.3f}",
              "", ""],
             [f"held-out real emoji ({c['64']['n']})", "64×64", f"{c['64']['fid']:.2f}", f"{c['64']['accuracy']:.3f}",
              f"{c['64']['seam_ratio']:.2f}", ""]]
    note = (f"{len(cats)} samples per model and size ({a.per_class} per category, the same noise and labels), Heun "
            f"{a.steps} steps, guidance {a.cfg}, the rolled tiling on odd steps as in the engines. 64×64 samples and "
            "renders are area-downsampled to 32×32 for the judge. Seam ratio: the mean step between pixel rows and "
            "columns 31 and 32 (where the 32×32 regions meet) over the mean step between all neighbours: about 1 "
            "without seams. Seconds: PyTorch on this machine's CPU, per image. Grids: `samples64.png` (the first "
            "model), `samples64_base.png`.")
    write_table("size64", ["model", "canvas", "FID-emoji ↓", "accuracy ↑", "seam ratio", "s / image"], rows, note)
    (OUT / "size64.json").write_text(json.dumps(out, indent=1))


FIT_SIGMAS = [0.2, 0.5, 1.0, 2.0, 5.0]
FIT_TRAIN_IMAGES = 512


def load_any(path):
    """An exported model folder (model.json) or a checkpoint / EMA snapshot (.pt) → (model, name, images seen)."""
    path = Path(path)
    if path.is_dir():
        model, meta = load(path)
        return model, meta["name"], meta.get("training", {}).get("images_seen")
    model, ck = load_ema(path)
    return model, f"{path.parent.name}/{path.name}", ck["state"]["images"]


def fit_rows(data, seed=0):
    """The fit diagnostic's images: a fixed sample of training rows, and every held-out row."""
    rng = np.random.default_rng(seed)
    train = np.sort(rng.choice(data.train_rows, min(FIT_TRAIN_IMAGES, len(data.train_rows)), replace=False))
    return {"train": train, "held-out": np.flatnonzero(data.held)}


@torch.no_grad()
def fit_rmse(model, data, rows, sigmas=FIT_SIGMAS, seed=0, batch=128):
    """RMSE (in [-1, 1] pixel units) of every brick's D(x + σn; σ, full labels) against x, per σ; the
    row 'c_skip·x' is the denoiser that has learnt nothing (F = 0)."""
    g = torch.Generator().manual_seed(seed)
    x, y = images(data, rows), torch.from_numpy(data.labels(rows))
    noise = torch.randn(x.shape, generator=g)
    out = {}
    for s in sigmas:
        se = {}
        for i in range(0, len(rows), batch):
            xb, nb = x[i:i + batch], s * noise[i:i + batch]
            outs = model(xb + nb, torch.full((len(xb),), s), y[i:i + batch])
            outs.append(("c_skip·x", (xb + nb) * 0.25 / (s * s + 0.25)))
            for k, D in outs:
                se[k] = se.get(k, 0.0) + float(((D - xb) ** 2).sum())
        for k, v in se.items():
            out.setdefault(f"brick {k + 1}" if isinstance(k, int) else k, []).append(math.sqrt(v / x.numel()))
    return out


def reconstruction_grid(model, data, path, per_row=5, steps=18, cfg=2.0, seed=0):
    """For one training emoji per category: the real image, then samples drawn with its exact labels."""
    rng = np.random.default_rng(seed)
    rows = [int(rng.choice(data.train_rows[data.cat[data.train_rows] == c])) for c in range(data.n_cat)]
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(len(rows) * per_row, 3, 32, 32, generator=g)
    y = torch.from_numpy(data.labels(np.repeat(rows, per_row)))
    x, _ = run_samples(model, noise, y, steps, cfg)
    real = images(data, np.array(rows))
    save_grid(torch.cat([torch.cat([real[i:i + 1], x[i * per_row:(i + 1) * per_row]]) for i in range(len(rows))]),
              path, ncol=per_row + 1)
    return [data.info["names"][r] for r in rows]


def fit(a, data, judged):
    """docs/eval/fit.*: each brick's denoising RMSE on training and held-out emoji (full labels), and the
    reconstruction grid fit.png (a training emoji, then samples with its exact labels, a row per category)."""
    t0 = time.time()
    model, name, seen = load_any(a.ckpt or a.model)
    rows_of = fit_rows(data)
    res = {split: fit_rmse(model, data, r) for split, r in rows_of.items()}
    names = reconstruction_grid(model, data, OUT / "fit.png", steps=a.steps, cfg=a.cfg)
    rows = [[split, k] + [f"{v:.3f}" for v in vals] for split, r in res.items() for k, vals in r.items()]
    n = {split: len(r) for split, r in rows_of.items()}
    note = (f"Model `{name}` ({seen or 0:,} images seen). RMSE of each brick's denoiser D(x + σ·n; σ, the image's "
            f"full labels) against x, in [-1, 1] pixel units, on {n['train']} training images and the {n['held-out']} "
            f"images of held-out emoji (never trained on); 'c_skip·x' is a denoiser that has learnt nothing. "
            f"`fit.png`: a row per category, a training emoji ({', '.join(names)}) then samples with its exact "
            f"labels (Heun {a.steps}, guidance {a.cfg}). {time.time() - t0:.0f} s.")
    write_table("fit", ["images", "denoiser"] + [f"σ = {s:g}" for s in FIT_SIGMAS], rows, note)
    (OUT / "fit.json").write_text(json.dumps({"model": name, "images_seen": seen, "sigmas": FIT_SIGMAS,
                                              "n": n, "rmse": res, "grid_rows": names}, indent=1))


def ablations(a, data, judged):
    """docs/eval/ablations.*: runs trained side by side for equal CPU time (--max-cpu-minutes), each
    scored on fit, loss and FID-emoji from the same noise."""
    g = torch.Generator().manual_seed(a.seed)
    cats = torch.arange(data.n_cat).repeat_interleave(a.per_class)
    noise = torch.randn(len(cats), 3, 32, 32, generator=g)
    y = category_labels(data, cats)
    split = fit_rows(data)
    rows, out = [], {}
    for run in a.runs:
        model, ck = load_ema(a.runs_dir / run / "ckpt.pt")
        log = [json.loads(l) for l in (a.runs_dir / run / "log.jsonl").read_text().splitlines()]
        tail = log[-max(1, len(log) // 10):]  # the loss is noisy: mean of the last tenth of the run
        top = str(len(model.bricks) - 1)
        loss = float(np.mean([r["bricks"][top] for r in tail if top in r["bricks"]]))
        fit_tr = fit_rmse(model, data, split["train"], sigmas=[0.5, 2.0])[f"brick {len(model.bricks)}"]
        fit_ho = fit_rmse(model, data, split["held-out"], sigmas=[0.5, 2.0])[f"brick {len(model.bricks)}"]
        x, secs = run_samples(model, noise, y, a.steps, a.cfg)
        s = judged.score(x, cats)
        save_grid(x[:: max(1, a.per_class // 8)], OUT / f"ablation_{run}.png", ncol=8)
        bricks = "→".join(f"{b.region}/{b.patch}/{b.depth}" for b in model.cfg.bricks)
        out[run] = {"bricks": bricks, "d": model.cfg.d, "gflop": model.cfg.flops() / 1e9,
                    "images": ck["state"]["images"], "args": ck["args"], "loss_top": loss,
                    "rmse_train": fit_tr, "rmse_held_out": fit_ho, **s, "sample_seconds": secs}
        rows.append([run, f"{bricks}, d {model.cfg.d}", f"{model.cfg.flops() / 1e9:.2f}", f"{ck['state']['images']:,}",
                     f"{loss:.3f}", f"{fit_tr[1]:.3f}", f"{fit_tr[0]:.3f}", f"{fit_ho[1]:.3f}", f"{s['fid']:.2f}",
                     f"{s['accuracy']:.3f}"])
        print(run, out[run], flush=True)
    note = (f"Each run from scratch on the same data and seed, side by side, for the same CPU time of one thread "
            f"(`--max-cpu-minutes`; wall time is meaningless on this shared 2-core machine). "
            f"Bricks: region/patch/depth "
            f"from the bottom. GFLOP: one 32×32 evaluation. Loss: the top brick's EDM loss, mean of the run's last "
            f"tenth. RMSE: the top brick's, full labels, {len(split['train'])} training / {len(split['held-out'])} "
            f"held-out images. FID-emoji and judge accuracy: {len(cats)} samples (Heun {a.steps}, guidance {a.cfg}); "
            f"grids `ablation_<run>.png`.")
    write_table("ablations", ["run", "bricks", "GFLOP", "images", "loss", "RMSE σ=2", "RMSE σ=0.5",
                              "held-out RMSE σ=2", "FID-emoji ↓", "accuracy ↑"], rows, note)
    (OUT / "ablations.json").write_text(json.dumps(out, indent=1))
    plot("ablations", [("GFLOP per evaluation", "top-brick RMSE at σ = 2 (train)",
                        {r: ([v["gflop"]], [v["rmse_train"][1]]) for r, v in out.items()}),
                       ("GFLOP per evaluation", "FID-emoji", {r: ([v["gflop"]], [v["fid"]]) for r, v in out.items()})],
         "Ablations at equal CPU time")


@torch.no_grad()
def nearest_distances(x, data, batch=256):
    """RMS pixel distance (0–255 scale) from each image in x to its nearest training image, and the same
    for the held-out real emoji (their nearest training image is another emoji or another style of it):
    samples much nearer than that are copies."""
    train = images(data, data.train_rows).flatten(1)

    def nearest(q):
        q = q.clamp(-1, 1).flatten(1)
        d = torch.cat([torch.cdist(q[i:i + batch], train).min(1).values for i in range(0, len(q), batch)])
        return (d / math.sqrt(q.shape[1]) * 127.5).numpy()

    return nearest(x), nearest(images(data, np.flatnonzero(data.held)))


def grid(a, data, judged):
    """docs/samples.png: a row per category (in the order of model.json), with the judge's accuracy."""
    model, meta = load(a.model)
    g = torch.Generator().manual_seed(a.seed)
    cats = torch.arange(data.n_cat).repeat_interleave(a.per_class)
    x, secs = run_samples(model, torch.randn(len(cats), 3, 32, 32, generator=g), category_labels(data, cats), a.steps, a.cfg)
    save_grid(x, ROOT / "docs" / "samples.png", ncol=a.per_class)
    s = judged.score(x, cats)
    near, near_real = nearest_distances(x, data)
    info = {"model": meta["name"], "images_seen": meta.get("training", {}).get("images_seen"), "rows": data.info["categories"],
            "steps": a.steps, "cfg": a.cfg, "seed": a.seed, "n": len(cats), **s,
            "nearest_training_rms": {"samples_median": float(np.median(near)), "samples_min": float(near.min()),
                                     "held_out_real_median": float(np.median(near_real))}}
    (OUT / "samples.json").write_text(json.dumps(info, indent=1))
    print(info)


EDIT_STRENGTHS = [0.4, 0.5, 0.6, 0.8]
REPAINT_IMAGES = 48
HAND_WRITTEN = "## What the grids look like"  # docs/eval/edit.md keeps this section (by hand) on a rerun


def held_out_emoji(data, n, min_styles=8):
    """n held-out emoji identities (never trained on) drawn in ≥ min_styles styles, spread over the
    categories: [(name, {style: dataset row})]."""
    names = data.info["names"]
    by_name = {}
    for r in np.flatnonzero(data.held):
        by_name.setdefault(names[r], {})[int(data.style[r])] = int(r)
    ok = sorted((nm for nm, s in by_name.items() if len(s) >= min_styles),
                key=lambda nm: (int(data.cat[next(iter(by_name[nm].values()))]), nm))
    return [(ok[int(i)], by_name[ok[int(i)]]) for i in np.linspace(0, len(ok) - 1, min(n, len(ok)))]


class StyleScore:
    """The style judge (train/judge.py, target "style") and its features of every real training image."""

    def __init__(self, data):
        self.judge, self.accuracy = load_judge(data, "style")
        rows = data.train_rows
        feats = features(self.judge, images(data, rows))
        self.real = [feats[torch.from_numpy(data.style[rows] == s)] for s in range(data.n_style)]

    def distance(self, x, styles):
        """Style distance: L2 in the style judge's features from each image to the nearest real training
        image of its style in `styles`."""
        f = features(self.judge, x.clamp(-1, 1))
        return torch.stack([torch.cdist(f[i:i + 1], self.real[int(s)]).min() for i, s in enumerate(styles)])


def sample_batched(model, noise, y, a, start, batch=128, **kw):
    """Final samples of `sample` over batches of noise, labels and start images (steps, cfg from the args)."""
    kw = {"steps": a.steps, "cfg_scale": a.cfg, **kw}
    return torch.cat([sample(model, noise[i:i + batch], y[i:i + batch], start=start[i:i + batch], **kw)[-1]
                      for i in range(0, len(noise), batch)])


def restyle(a, model, data, judged, style):
    """Held-out emoji, each from one source style (cycling) into every other style, at EDIT_STRENGTHS,
    labelled with its category and the target style (what the pickers give)."""
    emoji = held_out_emoji(data, a.edit_emoji)
    pairs = []  # (emoji index, source row, target style)
    for j, (_, rows) in enumerate(emoji):
        source = sorted(rows)[j % len(rows)]
        pairs += [(j, rows[source], t) for t in range(data.n_style) if t != source]
    src_rows = np.array([p[1] for p in pairs])
    src, cats = images(data, src_rows), torch.from_numpy(data.cat[src_rows])
    target = torch.tensor([p[2] for p in pairs])
    y = category_labels(data, cats)
    y[torch.arange(len(pairs)), data.n_cat + target] = 1
    noise = torch.randn(len(pairs), 3, 32, 32, generator=torch.Generator().manual_seed(a.seed))
    # the target set's own drawing of the same emoji, where the set has it (held out too)
    truth = [emoji[j][1].get(t) for j, _, t in pairs]
    has = torch.tensor([r is not None for r in truth])
    truth_x = images(data, np.array([r for r in truth if r is not None]))

    def scores(x, keep=None):  # keep: which pairs x holds (default all)
        x, k = x.clamp(-1, 1), slice(None) if keep is None else keep
        out = {"category_kept": accuracy(judged.judge, x, cats[k]), "style_named": accuracy(style.judge, x, target[k]),
               "style_distance": float(style.distance(x, target[k]).median())}
        if keep is None:
            out["rms_to_target_drawing"] = float(((x[has] - truth_x) ** 2).mean((1, 2, 3)).sqrt().median() * 127.5)
        return out

    t = edm_sigmas(a.steps)
    results = [{"setting": "start image (0%)", "steps": 0, "sigma": 0.0, **scores(src)}]
    outs = {}
    for s in EDIT_STRENGTHS:
        t0 = time.time()
        outs[s] = sample_batched(model, noise, y, a, src, strength=s)
        k = edit_steps(a.steps, s)
        results.append({"setting": f"restyled at {s:.0%}", "steps": k, "sigma": float(t[a.steps - k]),
                        "seconds": time.time() - t0, **scores(outs[s])})
        print(results[-1], flush=True)
    results.append({"setting": "the target set's own drawing", "steps": None, "sigma": None,
                    **scores(truth_x, has), "rms_to_target_drawing": 0.0})
    return {"emoji": [nm for nm, _ in emoji], "pairs": len(pairs), "with_truth": int(has.sum()), "results": results,
            "grid": restyle_grid(data, emoji, pairs, outs)}


def restyle_grid(data, emoji, pairs, outs, per_grid=6):
    """docs/eval/edit.png: per emoji, the real drawings in each style (white where a set lacks it), then a row
    per strength with the restyled image under each target style and the start image under its own."""
    rows = []
    for j, (_, drawn) in enumerate(emoji[:per_grid]):
        real = torch.ones(data.n_style, 3, 32, 32)
        for st, r in drawn.items():
            real[st] = images(data, np.array([r]))[0]
        rows.append(real)
        for s in EDIT_STRENGTHS:
            row = torch.ones(data.n_style, 3, 32, 32)
            for i, (jj, src_row, t) in enumerate(pairs):
                if jj == j:
                    row[t] = outs[s][i]
                    row[int(data.style[src_row])] = images(data, np.array([src_row]))[0]
            rows.append(row)
    x = torch.cat(rows)
    save_grid(x.repeat_interleave(2, 2).repeat_interleave(2, 3), OUT / "edit.png", ncol=data.n_style)
    return [emoji[j][0] for j in range(min(per_grid, len(emoji)))]


def seam(x, mask):
    """Mean |difference| between neighbouring pixels that straddle the mask's border (0–255 scale)."""
    x = x.clamp(-1, 1) * 127.5
    dy = (x[..., 1:, :] - x[..., :-1, :]).abs().mean(1)[:, (mask[1:] != mask[:-1])]
    dx = (x[..., :, 1:] - x[..., :, :-1]).abs().mean(1)[:, (mask[:, 1:] != mask[:, :-1])]
    return torch.cat([dy, dx], 1).mean(1)


def repaint_study(a, model, data, judged):
    """RePaint with and without resampling at equal evaluations: the centre 16×16 of held-out emoji redrawn
    with their full labels; per-image differences from the plain sampler with twice the steps."""
    rng = np.random.default_rng(a.seed)
    rows = np.sort(rng.choice(np.flatnonzero(data.held), REPAINT_IMAGES, replace=False))
    x0, y, cats = images(data, rows), torch.from_numpy(data.labels(rows)), torch.from_numpy(data.cat[rows])
    mask = torch.zeros(32, 32)
    mask[8:24, 8:24] = 1
    noise = torch.randn(len(rows), 3, 32, 32, generator=torch.Generator().manual_seed(a.seed))
    base = seam(x0, mask)
    n = a.repaint_steps
    settings = [(f"{n} steps", n, 1), (f"{n} steps, resampled ×2", n, 2), (f"{2 * n} steps", 2 * n, 1)]
    per, grid = {}, [x0]
    for label, steps, jumps in settings:
        t0 = time.time()
        x = sample_batched(model, noise, y, a, x0, steps=steps, strength=1, mask=mask, resample=jumps,
                           generator=torch.Generator().manual_seed(a.seed + 1))
        x = x.clamp(-1, 1)
        per[label] = {"evaluations": (2 * steps - 1) * jumps, "seconds": time.time() - t0,
                      "rms_inside": ((x - x0)[..., mask == 1] ** 2).mean((1, 2)).sqrt() * 127.5,
                      "excess_seam": seam(x, mask) - base, "category": accuracy(judged.judge, x, cats)}
        grid.append(x)
        print(label, {k: float(v.mean()) if torch.is_tensor(v) else v for k, v in per[label].items()}, flush=True)
    ref = per[settings[-1][0]]  # equal evaluations without resampling

    def stat(v, k):  # mean, and the paired difference from `ref` with its standard error
        d = v[k] - ref[k]
        return {"mean": float(v[k].mean()), "diff": float(d.mean()), "se": float(d.std() / math.sqrt(len(d)))}

    results = [{"setting": label, "evaluations": v["evaluations"], "seconds": v["seconds"], "category": v["category"],
                "rms_inside": stat(v, "rms_inside"), "excess_seam": stat(v, "excess_seam")} for label, v in per.items()]
    save_grid(torch.stack(grid, 1).flatten(0, 1)[: 8 * len(grid)].repeat_interleave(2, 2).repeat_interleave(2, 3),
              OUT / "edit_repaint.png", ncol=len(grid))
    return {"images": len(rows), "mask": "centre 16×16 of 32×32", "steps": n, "reference": settings[-1][0],
            "real_seam": float(base.mean()), "real_category": accuracy(judged.judge, x0, cats), "results": results}


def restyle_md(r, data):
    rows = [[x["setting"], "—" if x["steps"] is None else str(x["steps"]),
             "—" if x["sigma"] is None else f"{x['sigma']:.2f}", f"{x['category_kept']:.3f}", f"{x['style_named']:.3f}",
             f"{x['style_distance']:.2f}", f"{x['rms_to_target_drawing']:.1f}"] for x in r["results"]]
    note = (f"Model `{r['model']}`; {len(r['emoji'])} held-out emoji (never trained on; emoji that ≥ 8 of the 10 sets "
            f"draw, spread over the categories; a subsample, to keep the run near 20 CPU minutes), each from one "
            f"source style (cycling through the styles) into each of the 9 others: {r['pairs']} restyles per strength, "
            f"labelled with the emoji's category and the target style, Heun {r['steps']} steps, guidance {r['cfg']}, "
            f"one noise draw per restyle shared by the strengths. Category kept: the category judge (held-out accuracy "
            f"{r['judge_accuracy']:.3f}) names the emoji's category. Style named: a judge of the same shape trained to "
            f"name the set (held-out accuracy {r['style_judge_accuracy']:.3f}) names the target style. Style distance: "
            f"L2 in the style judge's features to the nearest real training image of the target style (median). RMS: "
            f"pixel distance (0–255) to the target set's own drawing of the same emoji ({r['with_truth']} of the "
            f"{r['pairs']} have one; median). Grid `edit.png`: {', '.join(r['grid'])}; per emoji the real drawings in "
            f"the ten styles ({', '.join(data.info['styles'])}; white: the set lacks it), then rows at "
            f"{', '.join(f'{s:.0%}' for s in EDIT_STRENGTHS)}: each target style's column holds the restyle, the "
            f"source style's column the start image.")
    return [note, "", *table(["setting", "steps run", "σ start", "category kept ↑", "style named ↑", "style distance ↓",
                              "RMS to target drawing ↓"], rows)]


def repaint_md(p):
    fmt = lambda v, ref: f"{v['mean']:.1f}" + ("" if ref else f" ({v['diff']:+.1f} ± {v['se']:.1f})")
    rows = [[x["setting"], str(x["evaluations"]), fmt(x["rms_inside"], x["setting"] == p["reference"]),
             fmt(x["excess_seam"], x["setting"] == p["reference"]), f"{x['category']:.3f}"] for x in p["results"]]
    note = (f"Repaint: the centre 16×16 of {p['images']} held-out 32×32 emoji redrawn (strength 100%) with each "
            f"emoji's full labels, guidance {p['cfg']}: the plain sampler, RePaint's resampling (each step made twice, "
            f"going back with fresh noise between), and the plain sampler with twice the steps (the same evaluations "
            f"as resampling). RMS inside: pixel distance (0–255) of the redrawn square to the original (one coherent "
            f"fill; lower = more in keeping). Excess seam: mean |Δ| between neighbouring pixels across the square's "
            f"border, minus the same on the originals ({p['real_seam']:.1f}). In brackets: the mean per-image "
            f"difference from {p['reference']} ± its standard error. Category: the judge on the result (originals: "
            f"{p['real_category']:.3f}). Grid `edit_repaint.png`: 8 emoji, a row each: the original, then the three "
            f"settings in table order.")
    return [note, "", *table(["setting", "evaluations", "RMS inside ↓", "excess seam ↓", "category ↑"], rows)]


def write_edit_md(data):
    """docs/eval/edit.md from edit.json (restyle) and edit_repaint.json, keeping the section written by hand."""
    md = ["# Editing from a start image", "", "Written by `npm run eval -- edit` and `npm run eval -- repaint`; the "
          "last section by hand.", ""]
    if (OUT / "edit.json").exists():
        md += restyle_md(json.loads((OUT / "edit.json").read_text()), data) + [""]
    if (OUT / "edit_repaint.json").exists():
        md += repaint_md(json.loads((OUT / "edit_repaint.json").read_text())) + [""]
    old = (OUT / "edit.md").read_text() if (OUT / "edit.md").exists() else ""
    kept = old[old.index(HAND_WRITTEN):] if HAND_WRITTEN in old else f"{HAND_WRITTEN}\n\n(to write)\n"
    (OUT / "edit.md").write_text("\n".join(md) + "\n" + kept)


def edit(a, data, judged):
    """docs/eval/edit.*: held-out emoji restyled into the other styles."""
    model, meta = load(a.model)
    style = StyleScore(data)
    r = restyle(a, model, data, judged, style)
    r.update(model=meta["name"], steps=a.steps, cfg=a.cfg, judge_accuracy=judged.judge_acc,
             style_judge_accuracy=style.accuracy)
    (OUT / "edit.json").write_text(json.dumps(r, indent=1))
    write_edit_md(data)


def repaint(a, data, judged):
    """docs/eval/edit_repaint.*: RePaint's resampling measured against the plain sampler at equal evaluations."""
    model, meta = load(a.model)
    p = repaint_study(a, model, data, judged)
    p.update(model=meta["name"], cfg=a.cfg)
    (OUT / "edit_repaint.json").write_text(json.dumps(p, indent=1))
    write_edit_md(data)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["skip", "prompts", "efficiency", "progress", "crops", "grid", "fit", "ablations",
                                     "edit", "repaint", "size64"])
    ap.add_argument("--model", type=Path, default=ROOT / "public" / "models" / "lego-emoji-32")
    ap.add_argument("--base", type=Path, default=ROOT / "public" / "models" / "lego-emoji-32",
                    help="size64: the model the 64×64 one grew from")
    ap.add_argument("--size", type=int, choices=(32, 64), default=32, help="skip: canvas side")
    ap.add_argument("--ckpt", type=Path, help="fit: a checkpoint or EMA snapshot instead of --model")
    ap.add_argument("--runs", nargs="+", default=["lego-emoji-32", "dit-baseline"])
    ap.add_argument("--data", type=Path, default=ROOT / "data",
                    help="the dataset the model was trained on (FID-emoji compares with it; its judge)")
    ap.add_argument("--runs-dir", type=Path, default=ROOT / "runs", help="ablations: where the runs are")
    ap.add_argument("--per-class", type=int, default=24, help="samples per category (or per prompt)")
    ap.add_argument("--steps", type=int, default=18)
    ap.add_argument("--fractions", type=float, nargs="+", default=[round(f, 1) for f in np.linspace(0, 1, 11)],
                    help="skip: fractions of the steps with the top brick skipped")
    ap.add_argument("--cfg", type=float, default=2.0)
    ap.add_argument("--final-only", action="store_true", help="efficiency: only each run's last checkpoint")
    ap.add_argument("--edit-emoji", type=int, default=14, help="edit: held-out emoji to restyle (each into 9 styles)")
    ap.add_argument("--repaint-steps", type=int, default=10, help="edit: steps of the repaint comparison")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    data = EmojiData(a.data)
    judged = None if a.what == "fit" else Judged(data)  # the fit diagnostic needs no judge
    OUT.mkdir(parents=True, exist_ok=True)
    {"skip": skip_curve, "prompts": prompts, "efficiency": efficiency, "progress": progress, "crops": crops,
     "grid": grid, "fit": fit, "ablations": ablations, "edit": edit,
     "repaint": repaint, "size64": size64}[a.what](a, data, judged)


if __name__ == "__main__":
    main()
