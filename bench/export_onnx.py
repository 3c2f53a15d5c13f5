"""ONNX export of a LEGO model, the benchmark's shared inputs, PyTorch outputs and PyTorch CPU timings.

    /usr/bin/python3 bench/export_onnx.py --model public/models/lego-emoji-32 --out bench/out/onnx \
        [--width 32 --height 32 --batch 2] [--time 32x32x2,64x64x8 --reps 3 --threads 2]

Writes into --out:
  model.onnx     the all-bricks denoiser D(x, sigma, labels) -> D, fixed shapes [batch, 3, H, W],
                 opset 17 (PyTorch 1.13's exporter)
  io.bin         float32 little-endian: x, sigma, labels, then D of every brick (PyTorch, f32)
  io.json        shapes and offsets into io.bin (in floats), the model's SHA-256, export settings
  pytorch.json   (with --time) ms per evaluation of PyTorch eager on the CPU per canvas/batch

PyTorch 1.13 exports F.layer_norm without affine weights as an invalid LayerNormalization node, so
the export swaps train.lego.layer_norm for one that passes explicit ones/zeros (the same function).
Nothing in train/ is changed on disk.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as Fn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import train.lego as lego  # noqa: E402
from train.export import load  # noqa: E402

ORIG_LAYER_NORM = lego.layer_norm


def layer_norm_affine(x):
    d = x.shape[-1]
    return Fn.layer_norm(x, (d,), torch.ones(d, dtype=x.dtype), torch.zeros(d, dtype=x.dtype), eps=1e-6)


class Denoiser(torch.nn.Module):
    """D(x, sigma, labels) of the top brick with every brick active (what one sampler call needs)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, sigma, labels):
        return self.model(x, sigma, labels)[-1][1]


def inputs(meta, width, height, batch, seed=0):
    """Noisy canvases at sigma = 1 with guidance-style labels: the first half conditional (a category
    and a style one-hot), the second half zero (unconditional)."""
    g = torch.Generator().manual_seed(seed)
    L = meta["architecture"]["label_dim"]
    x = torch.randn(batch, 3, height, width, generator=g) * 1.0 + torch.randn(batch, 3, height, width, generator=g) * 0.3
    sigma = torch.full((batch,), 1.0)
    labels = torch.zeros(batch, L)
    cats = len(meta["labels"]["categories"])
    for b in range((batch + 1) // 2):
        labels[b, b % cats] = 1.0
        labels[b, cats + b % len(meta["labels"]["styles"])] = 1.0
    return x, sigma, labels


def export(model, meta, out, width, height, batch):
    x, sigma, labels = inputs(meta, width, height, batch)
    with torch.no_grad():
        outs = [d for _, d in model(x, sigma, labels)]
    lego.layer_norm = layer_norm_affine  # module-level function the blocks call
    try:
        with torch.no_grad():
            check = Denoiser(model)(x, sigma, labels)
        assert torch.allclose(check, outs[-1], atol=1e-5), "affine layer_norm changed the output"
        torch.onnx.export(Denoiser(model), (x, sigma, labels), str(out / "model.onnx"), opset_version=17,
                          input_names=["x", "sigma", "labels"], output_names=["D"], do_constant_folding=True)
    finally:
        lego.layer_norm = ORIG_LAYER_NORM
    arrays = {"x": x, "sigma": sigma, "labels": labels, **{f"D{k}": d for k, d in enumerate(outs)}}
    offsets, blobs, o = {}, [], 0
    for name, a in arrays.items():
        a = a.detach().numpy().astype("<f4").ravel()
        offsets[name] = {"offset": o, "length": int(a.size), "shape": list(arrays[name].shape)}
        blobs.append(a.tobytes())
        o += a.size
    (out / "io.bin").write_bytes(b"".join(blobs))
    io = {"model": meta["name"], "sha256": meta["weights"]["sha256"], "param_count": meta["param_count"],
          "width": width, "height": height, "batch": batch, "opset": 17, "torch": torch.__version__,
          "arrays": offsets, "onnx_bytes": (out / "model.onnx").stat().st_size}
    (out / "io.json").write_text(json.dumps(io, indent=1) + "\n")
    return io



def time_pytorch(model, meta, settings, reps, threads):
    """Best-of-reps wall and CPU ms of one evaluation of every brick subset, eager mode, no grad.
    (CPU ms counts every thread of this process, OpenMP's spinning included.)"""
    torch.set_num_threads(threads)
    n = len(meta["architecture"]["bricks"])
    subsets = [list(range(n))] + [[j for j in range(n) if j != k] for k in range(n)]
    rows = []
    for w, h, b in settings:
        x, sigma, labels = inputs(meta, w, h, b, seed=1)
        with torch.no_grad():
            model(x, sigma, labels)  # warm-up
            best = {tuple(a): (float("inf"), float("inf")) for a in subsets}
            for _ in range(reps):  # subsets interleaved, like the engine's grid
                for active in subsets:
                    t0, c0 = time.perf_counter(), time.process_time()
                    model(x, sigma, labels, active=active)
                    wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
                    old = best[tuple(active)]
                    best[tuple(active)] = (min(old[0], wall), min(old[1], cpu))
        for active in subsets:
            wall, cpu = best[tuple(active)]
            rows.append({"width": w, "height": h, "batch": b, "active": active, "ms": round(wall, 2), "cpu_ms": round(cpu, 2)})
            print(f"pytorch {w}x{h} batch {b} bricks {[k + 1 for k in active]}: {wall:.1f} ms (CPU {cpu:.1f} ms)", file=sys.stderr)
    return {"threads": threads, "torch": torch.__version__, "reps": reps, "rows": rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=ROOT / "public/models/lego-emoji-32")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/out/onnx")
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--height", type=int, default=32)
    ap.add_argument("--batch", type=int, default=2, help="network batch (2 = one image with guidance)")
    ap.add_argument("--force", action="store_true", help="export even if io.json matches the weights")
    ap.add_argument("--time", default="", help="canvases to time PyTorch on: WxHxB,… (network batch)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, meta = load(a.model)
    a.out.mkdir(parents=True, exist_ok=True)
    io_path = a.out / "io.json"
    same = False
    if io_path.is_file() and (a.out / "model.onnx").is_file() and not a.force:
        io = json.loads(io_path.read_text())
        same = (io["sha256"], io["width"], io["height"], io["batch"]) == (meta["weights"]["sha256"], a.width, a.height, a.batch)
    if same:
        print(f"{a.out / 'model.onnx'} is up to date", file=sys.stderr)
    else:
        t0 = time.perf_counter()
        io = export(model, meta, a.out, a.width, a.height, a.batch)
        print(f"exported {a.out / 'model.onnx'} ({io['onnx_bytes'] / 2**20:.1f} MiB) in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    if a.time:
        settings = [tuple(int(v) for v in s.split("x")) for s in a.time.split(",") if s]
        res = time_pytorch(model, meta, settings, a.reps, a.threads)
        (a.out / "pytorch.json").write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
