"""Emoji dataset: base emoji of the Google (Noto) and Twitter (Twemoji) npm packages.

    /usr/bin/python3 -m train.dataset            # builds data/emoji.npz (+ data/emoji.json)

Each image is composited on white and kept at 64×64 and area-downsampled to 32×32 (uint8, NHWC).
Labels are a multi-hot vector [category one-hot | style one-hot | word multi-hot].

Skin-tone variants are left out: they repeat their base emoji's shape with another palette
(1,875 near-duplicates per style, nearly all "People & Body"), which would make that one
category half the data and teach nothing that the labels can ask for.
"""
import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STYLES = ["google", "twitter"]
STOP_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the",
              "to", "with", "without"}
MIN_WORD_COUNT = 2
HELD_OUT_PERCENT = 5  # emoji identities never trained on (every style of them), for the fit diagnostic


class DatasetError(RuntimeError):
    pass


def words_of(emoji):
    """Lower-cased words of an emoji's name and short names, split on space, '_' and '-'."""
    text = " ".join([emoji.get("name") or ""] + list(emoji.get("short_names") or []))
    words = (w for w in re.split(r"[\s_\-]+", text.lower()) if w)
    return sorted({re.sub(r"[^a-z0-9]", "", w) for w in words} - STOP_WORDS - {""})


def held_out(name):
    """True for the emoji identities (by name, so every style of one emoji alike) kept out of
    training: a hash, stable across builds and machines. The judge's 15% (train/judge.py) uses the
    same hash, so this 5% lies inside it."""
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 100 < HELD_OUT_PERCENT


def package_dir(style, node_modules):
    d = node_modules / f"emoji-datasource-{style}"
    if not (d / "emoji.json").is_file() or not (d / "img" / style / "64").is_dir():
        raise DatasetError(
            f"{d} is missing or incomplete (need emoji.json and img/{style}/64/). "
            f"Run `npm ci` in {ROOT} to install emoji-datasource-{style}.")
    return d


def load_rgb64(path):
    from PIL import Image
    try:
        with Image.open(path) as im:
            im = im.convert("RGBA")
            if im.size != (64, 64):
                raise DatasetError(f"{path}: expected 64×64, got {im.size[0]}×{im.size[1]}")
            a = np.asarray(im, dtype=np.float32) / 255.0
    except (OSError, ValueError) as e:
        raise DatasetError(f"{path}: unreadable PNG ({e})") from e
    rgb = a[..., :3] * a[..., 3:] + (1.0 - a[..., 3:])  # composite on white
    return rgb


def area_down(rgb, f):
    h, w, c = rgb.shape
    return rgb.reshape(h // f, f, w // f, f, c).mean(axis=(1, 3))


def to_u8(rgb):
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)


def progress(i, n, label):
    width = 30
    done = int(width * i / n)
    sys.stderr.write(f"\r{label} [{'#' * done}{'.' * (width - done)}] {i}/{n}")
    if i == n:
        sys.stderr.write("\n")
    sys.stderr.flush()


def build(node_modules=ROOT / "node_modules", out=ROOT / "data"):
    meta = json.loads((package_dir(STYLES[0], node_modules) / "emoji.json").read_text())
    base = sorted((e for e in meta if e["category"] != "Component"), key=lambda e: e["sort_order"])
    categories = sorted({e["category"] for e in base})
    counts = Counter(w for e in base for w in words_of(e))
    vocab = sorted(w for w, c in counts.items() if c >= MIN_WORD_COUNT)
    widx = {w: i for i, w in enumerate(vocab)}

    items = [(s, e) for s in STYLES for e in base if e.get(f"has_img_{s}")]
    x64 = np.zeros((len(items), 64, 64, 3), np.uint8)
    x32 = np.zeros((len(items), 32, 32, 3), np.uint8)
    cat = np.zeros(len(items), np.int64)
    style = np.zeros(len(items), np.int64)
    words = np.zeros((len(items), len(vocab)), np.uint8)
    names = []
    for i, (s, e) in enumerate(items):
        d = package_dir(s, node_modules)
        path = d / "img" / s / "64" / e["image"]
        if not path.is_file():
            raise DatasetError(f"{path} is missing: reinstall emoji-datasource-{s} with `npm ci`")
        rgb = load_rgb64(path)
        x64[i] = to_u8(rgb)
        x32[i] = to_u8(area_down(rgb, 2))
        cat[i] = categories.index(e["category"])
        style[i] = STYLES.index(s)
        for w in words_of(e):
            if w in widx:
                words[i, widx[w]] = 1
        names.append(e["name"].lower())
        if i % 50 == 0 or i == len(items) - 1:
            progress(i + 1, len(items), "building emoji dataset")

    out.mkdir(parents=True, exist_ok=True)
    held = np.array([held_out(n) for n in names])
    np.savez_compressed(out / "emoji.npz", x32=x32, x64=x64, cat=cat, style=style, words=words, held=held)
    info = {"categories": categories, "styles": STYLES, "vocab": vocab, "names": names,
            "count": len(items), "min_word_count": MIN_WORD_COUNT,
            "held_out": {"percent": HELD_OUT_PERCENT, "images": int(held.sum()),
                         "emoji": sorted({n for n, h in zip(names, held) if h})},
            "sha256_x32": hashlib.sha256(x32.tobytes()).hexdigest()}
    (out / "emoji.json").write_text(json.dumps(info, indent=1))
    print(f"{len(items)} images ({len(base)} emoji, {len(STYLES)} styles), "
          f"{len(categories)} categories, {len(vocab)} words (≥{MIN_WORD_COUNT} uses) → {out}")
    return info


class EmojiData:
    """The built dataset as float tensors in [-1, 1] (NCHW) plus label groups."""

    def __init__(self, path=ROOT / "data"):
        path = Path(path)
        if not (path / "emoji.npz").is_file():
            raise DatasetError(f"{path}/emoji.npz not found: build it with `npm run dataset`")
        z = np.load(path / "emoji.npz")
        self.info = json.loads((path / "emoji.json").read_text())
        self.x32 = z["x32"]
        self.x64 = z["x64"]
        self.cat, self.style, self.words = z["cat"], z["style"], z["words"]
        if "held" not in z:
            raise DatasetError(f"{path}/emoji.npz predates the held-out split: rebuild it with `npm run dataset`")
        self.held = z["held"]  # rows of held-out emoji identities: never trained on
        self.train_rows = np.flatnonzero(~self.held)
        self.n_cat = len(self.info["categories"])
        self.n_style = len(self.info["styles"])
        self.n_words = len(self.info["vocab"])

    @property
    def label_dim(self):
        return self.n_cat + self.n_style + self.n_words

    def labels(self, idx):
        """Multi-hot [N, L] for dataset rows idx."""
        y = np.zeros((len(idx), self.label_dim), np.float32)
        y[np.arange(len(idx)), self.cat[idx]] = 1
        y[np.arange(len(idx)), self.n_cat + self.style[idx]] = 1
        y[:, self.n_cat + self.n_style:] = self.words[idx]
        return y

    def label_groups(self):
        return {"category": [0, self.n_cat],
                "style": [self.n_cat, self.n_cat + self.n_style],
                "words": [self.n_cat + self.n_style, self.label_dim]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    ap.add_argument("--out", type=Path, default=ROOT / "data")
    a = ap.parse_args()
    try:
        build(a.node_modules, a.out)
    except DatasetError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
