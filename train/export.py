"""Export a checkpoint's EMA weights to what the browser loads: model.json + weights.safetensors.

    /usr/bin/python3 -m train.export --run runs/lego-emoji-32 --out public/models/lego-emoji-32
    /usr/bin/python3 -m train.export --data-info public/models/lego-emoji-32   # previews, credits, word categories
    /usr/bin/python3 -m train.export --join DIR    # weights.safetensors.00, .01 … → weights.safetensors

--part-mib N cuts a weights file larger than N MiB into numbered parts (a GPU machine returns files
of at most 16 MiB); --join puts them back together and checks the SHA-256 that model.json holds.

model.json's "style_info" gives each style the model knows its credit (from the dataset's sources)
and a preview: one real 32×32 image of that style from the dataset, as a PNG data URL (so it is
cached offline with model.json). "labels.word_categories" counts, for each word, the training emoji of
each category that have it in their name: a prompt without a category takes the one its words name
(src/model/labels.ts promptCategory).
"""
import argparse
import base64
import hashlib
import io
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import torch

from train.dataset import ROOT, STOP_WORDS, DatasetError, EmojiData
from train.sources import credit
from train.lego import LegoConfig, LegoStack, SIGMA_DATA

DTYPES = {"F32": np.float32, "F16": np.float16}
FORMAT = "lego-diffusion/1"


def write_safetensors(tensors, path, metadata=None):
    """tensors: name → numpy array (f32 or f16), written in name order."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16"}[a.dtype]
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.astype(a.dtype.newbyteorder("<")).tobytes())
        offset += a.nbytes
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    data = struct.pack("<Q", len(h)) + h + b"".join(blobs)
    Path(path).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def read_safetensors(path):
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, t in header.items():
        lo, hi = t["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + lo:8 + n + hi], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
    return out


def model_json(cfg: LegoConfig, labels, n_params, dtype, sha256, name, extra=None):
    return {
        "format": FORMAT,
        "name": name,
        "architecture": {"d": cfg.d, "heads": cfg.heads, "mlp_ratio": cfg.mlp_ratio, "channels": cfg.channels,
                         "fourier_dim": cfg.fourier_dim, "label_dim": cfg.label_dim,
                         "bricks": [{"region": b.region, "patch": b.patch, "depth": b.depth} for b in cfg.bricks],
                         # only where a region is larger than it: older files and engines never see it
                         **({"canvas_unit": cfg.canvas_unit} if cfg.canvas_unit != cfg.max_region else {}),
                         "gelu": "tanh", "layernorm_eps": 1e-6},
        "labels": {**labels, "stop_words": sorted(STOP_WORDS)},  # prompts drop these words
        "edm": {"sigma_data": SIGMA_DATA, "sigma_min": 0.002, "sigma_max": 80.0, "rho": 7.0},
        "param_count": n_params,
        "dtype": dtype,
        "weights": {"file": "weights.safetensors", "sha256": sha256},
        **(extra or {}),
    }


def export(model: LegoStack, labels, out, name, dtype="F16", extra=None):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    np_dtype = DTYPES[dtype]
    tensors = {k: v.detach().float().cpu().numpy().astype(np_dtype) for k, v in model.state_dict().items()}
    sha = write_safetensors(tensors, out / "weights.safetensors")
    n_params = sum(p.numel() for p in model.parameters())
    meta = model_json(model.cfg, labels, n_params, dtype, sha, name, extra)
    (out / "model.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


PREVIEW_EMOJI = ["grinning face with smiling eyes", "smiling face with open mouth and smiling eyes",
                 "grinning face", "smiling face with smiling eyes"]  # the first one a style has


def png_data_url(rgb):
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def style_info(styles, data: EmojiData):
    """style → {title, author, url, license, license_url, credit, [attribution], preview, preview_emoji} for the
    styles the dataset has (a style it lacks gets no entry: the page shows just its name)."""
    sources = {c["style"]: c for c in data.info.get("sources", [])}
    names = np.array(data.info["names"])
    out = {}
    for s, name in enumerate(styles):
        if name not in sources or name not in data.info["styles"]:
            continue
        rows = np.flatnonzero(data.style == data.info["styles"].index(name))
        pick = next((r for e in PREVIEW_EMOJI for r in rows if names[r] == e), rows[0] if len(rows) else None)
        c = sources[name]
        out[name] = {k: c[k] for k in ("title", "author", "url", "license", "license_url")}
        out[name]["credit"] = credit(c)
        if c.get("attribution"):
            out[name]["attribution"] = c["attribution"]
        if pick is not None:
            out[name].update(preview=png_data_url(data.x32[pick]), preview_emoji=str(names[pick]))
    return out


def word_categories(labels, data: EmojiData):
    """Per word of labels["vocab"], per category of labels["categories"]: the training emoji (held-out
    identities left out) of that category with that word in their name. A word or category the dataset
    lacks counts 0."""
    rows = data.train_rows
    words = data.words[rows].astype(np.int64)
    vocab = {w: i for i, w in enumerate(data.info["vocab"])}
    counts = np.zeros((len(labels["vocab"]), len(labels["categories"])), dtype=np.int64)
    for c, name in enumerate(labels["categories"]):
        if name in data.info["categories"]:
            per_word = words[data.cat[rows] == data.info["categories"].index(name)].sum(0)
            counts[:, c] = [per_word[vocab[w]] if w in vocab else 0 for w in labels["vocab"]]
    return counts.tolist()


def data_info(labels, data: EmojiData):
    """What model.json takes from the dataset: the labels with their word categories, and the style info."""
    return {**labels, "word_categories": word_categories(labels, data)}, style_info(labels["styles"], data)


def add_data_info(model_dir, data_dir):
    """Writes labels.word_categories and style_info into an exported model.json (weights untouched)."""
    path = Path(model_dir) / "model.json"
    meta = json.loads(path.read_text())
    meta["labels"], meta["style_info"] = data_info(meta["labels"], EmojiData(data_dir))
    path.write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def weights_file(model_dir):
    """(model.json as a dict, the weights file it names, that file's numbered parts if it is in parts)."""
    model_dir = Path(model_dir)
    meta = json.loads((model_dir / "model.json").read_text())
    wpath = model_dir / meta["weights"]["file"]
    return meta, wpath, sorted(model_dir.glob(wpath.name + ".[0-9][0-9]"))


def split_weights(model_dir, part_bytes):
    """Cuts model_dir's weights file into <file>.00, .01 … of part_bytes each if it is larger."""
    _, wpath, stale = weights_file(model_dir)
    for old in stale:
        old.unlink()
    data = wpath.read_bytes()
    if len(data) <= part_bytes:
        return [wpath]
    parts = [wpath.with_name(f"{wpath.name}.{i:02d}") for i in range(math.ceil(len(data) / part_bytes))]
    for i, part in enumerate(parts):
        part.write_bytes(data[i * part_bytes:(i + 1) * part_bytes])
    wpath.unlink()
    return parts


def join_weights(model_dir):
    """Joins <file>.00, .01 … back into the weights file that model.json names, checking its SHA-256."""
    meta, wpath, parts = weights_file(model_dir)
    if not parts:
        raise ValueError(f"{model_dir}: no {wpath.name}.00, .01 … to join")
    data = b"".join(p.read_bytes() for p in parts)
    sha = hashlib.sha256(data).hexdigest()
    if sha != meta["weights"]["sha256"]:
        raise ValueError(f"{model_dir}: the {len(parts)} parts join to SHA-256 {sha}, model.json says "
                         f"{meta['weights']['sha256']} (a part is missing or from another export); nothing changed")
    wpath.write_bytes(data)
    for p in parts:
        p.unlink()
    return wpath


def load(model_dir):
    """model.json + weights.safetensors → LegoStack (f32), checking the weights' SHA-256."""
    meta, wpath, parts = weights_file(model_dir)
    if not wpath.is_file() and parts:
        raise ValueError(f"{wpath} is in parts: join them with `npm run export -- --join {model_dir}`")
    sha = hashlib.sha256(wpath.read_bytes()).hexdigest()
    if sha != meta["weights"]["sha256"]:
        raise ValueError(f"{wpath}: SHA-256 {sha} does not match model.json ({meta['weights']['sha256']})")
    arch = meta["architecture"]
    cfg = LegoConfig(bricks=arch["bricks"], d=arch["d"], heads=arch["heads"], label_dim=arch["label_dim"],
                     channels=arch["channels"], mlp_ratio=arch["mlp_ratio"], fourier_dim=arch["fourier_dim"],
                     canvas_unit=arch.get("canvas_unit", 0))  # absent before bricks larger than it existed
    model = LegoStack(cfg)
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in read_safetensors(wpath).items()})
    return model.eval(), meta


def load_ema(path):
    """A checkpoint or EMA snapshot (runs/<name>/ckpt.pt, ema_<images>.pt) → (its EMA LegoStack, the dict)."""
    ck = torch.load(path, map_location="cpu", weights_only=False)  # our own file (args, labels)
    model = LegoStack(LegoConfig(**ck["config"]))
    model.load_state_dict(ck["ema"])
    return model.eval(), ck


@torch.no_grad()
def fp16_error(model, label_dim, n=8, seed=0):
    """Largest |D_fp16 − D_fp32| over all bricks on random inputs, with weights rounded to fp16, on a canvas
    of the largest region (every brick runs)."""
    g = torch.Generator().manual_seed(seed)
    side = model.cfg.max_region
    x = torch.randn(n, 3, side, side, generator=g)
    sigma = torch.exp(torch.randn(n, generator=g) * 1.2 - 1.2)
    y = (torch.rand(n, label_dim, generator=g) < 0.02).float()
    ref = model(x * (1 + sigma[:, None, None, None]), sigma, y)
    half = LegoStack(model.cfg)
    half.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    out = half(x * (1 + sigma[:, None, None, None]), sigma, y)
    return max(float((a[1] - b[1]).abs().max()) for a, b in zip(ref, out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=ROOT / "runs" / "lego-emoji-32")
    ap.add_argument("--out", type=Path, default=None, help="default: public/models/<run name>")
    ap.add_argument("--dtype", choices=["auto", "F16", "F32"], default="auto",
                    help="auto: fp16 if it moves no output pixel by more than --fp16-tol")
    ap.add_argument("--fp16-tol", type=float, default=2e-3, help="in [-1, 1] pixel units")
    ap.add_argument("--extra", type=Path, help="JSON merged into model.json (training stats, quality)")
    ap.add_argument("--data", type=Path, help="dataset for the style previews, credits and word categories "
                    "(default: the run's)")
    ap.add_argument("--data-info", type=Path, metavar="MODEL_DIR",
                    help="only add style previews, credits and word categories to an exported model's model.json")
    ap.add_argument("--part-mib", type=float, help="cut a weights file larger than this many MiB into parts")
    ap.add_argument("--join", type=Path, metavar="MODEL_DIR", help="only join MODEL_DIR's weight parts")
    a = ap.parse_args()
    if a.join:
        try:
            print(f"joined → {join_weights(a.join)}")
        except ValueError as e:
            sys.exit(f"error: {e}")
        return
    if a.data_info:
        meta = add_data_info(a.data_info, a.data or ROOT / "data")
        print(f"style previews and credits for {', '.join(meta['style_info'])}, categories of "
              f"{len(meta['labels']['vocab'])} words → {a.data_info / 'model.json'}")
        return
    ck_path = a.run / "ckpt.pt"
    if not ck_path.is_file():
        sys.exit(f"error: no checkpoint at {ck_path}; train first with `python3 -m train.train`")
    model, ck = load_ema(ck_path)
    err = fp16_error(model, model.cfg.label_dim)
    dtype = a.dtype if a.dtype != "auto" else ("F16" if err <= a.fp16_tol else "F32")
    st = ck["state"]
    large = model.cfg.max_region > model.cfg.canvas_unit  # then say how its bricks were trained
    extra = {"training": {"images_seen": st["images"], "steps": st["step"], "hours": round(st["seconds"] / 3600, 2),
                          "preset": ck["args"].get("preset"), "canvas": ck["args"].get("canvas", 32),
                          "fp16_max_abs_error": err,
                          **({"grown": st["grown"]} if st.get("grown") else {}),
                          **({"lower_lr": ck["args"]["lower_lr"]} if large else {})}}
    if a.extra:
        extra.update(json.loads(a.extra.read_text()))
    out = a.out or ROOT / "public" / "models" / a.run.name
    data_dir = a.data or Path(ck["args"].get("data") or ROOT / "data")
    labels = ck["labels"]
    try:
        labels, extra["style_info"] = data_info(labels, EmojiData(data_dir))
    except DatasetError as e:  # the page then shows the style names without previews or credits
        print(f"warning: model.json gets no style previews, credits or word categories: {e}", file=sys.stderr)
    meta = export(model, labels, out, a.run.name, dtype, extra)
    files = split_weights(out, int(a.part_mib * 2 ** 20)) if a.part_mib else [out / meta["weights"]["file"]]
    print(f"exported {a.run.name} ({meta['param_count']:,} params, {dtype}, fp16 max |ΔD| {err:.2e}) → {out} "
          f"({', '.join(f.name for f in files)})")


if __name__ == "__main__":
    main()
