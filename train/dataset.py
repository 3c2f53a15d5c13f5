"""Emoji dataset: the base emoji of ten openly licensed sets (train/sources.py), one style each.

    /usr/bin/python3 -m train.dataset            # builds data/emoji.npz (+ data/emoji.json) and docs/data.md

Each image is composited on white and kept at 64×64 and area-downsampled to 32×32 (uint8, NHWC).
PNG sets are read at 64×64; SVG sets are rendered at 128×128 with resvg (scripts/render-svg.mjs,
cached under .cache/render/ by content hash) and area-downsampled to both sizes.
Labels are a multi-hot vector [category one-hot | style one-hot | word multi-hot].

Skin-tone variants are left out: they repeat their base emoji's shape with another palette
(1,875 near-duplicates per style, nearly all "People & Body"), which would make that one
category half the data and teach nothing that the labels can ask for. Icons that match no emoji,
or do not render, are skipped and counted per reason (train/match.py OUTCOMES) in the card.
"""
import argparse
import functools
import hashlib
import json
import lzma
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from train.match import EmojiIndex, code_map, match_set
from train.sources import OPEN_LICENSES, SOURCES

ROOT = Path(__file__).resolve().parent.parent
RENDER = 128  # SVG render side: area-downsampled ×2 to 64 and ×4 to 32
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


def missing(what, src):
    return DatasetError(f"{what} is missing or incomplete: run `npm ci` in {ROOT} to install {src.package}")


def png_dir(src, node_modules):
    d = node_modules / src.package
    if not (d / "emoji.json").is_file() or not (d / "img" / src.style / "64").is_dir():
        raise missing(f"{d} (need emoji.json and img/{src.style}/64/)", src)
    return d


def read_json(path, src):
    if not path.is_file():
        raise missing(str(path), src)
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        raise DatasetError(f"{path}: not valid JSON ({e}); reinstall {src.package} with `npm ci`") from e


def composite(path, size):
    """An RGBA image file → float RGB on white; None when it cannot be read or has another size."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            if im.size != (size, size):
                return None
            a = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
    except (OSError, ValueError):
        return None
    return a[..., :3] * a[..., 3:] + (1.0 - a[..., 3:])


def area_down(rgb, f):
    """Mean over f×f blocks (f a power of 2), as halvings: strided sums are ~10× faster than a
    reshaped mean, and a mean of 2×2 means is the mean of the 4×4 block."""
    while f > 1:
        rgb = (rgb[0::2, 0::2] + rgb[1::2, 0::2] + rgb[0::2, 1::2] + rgb[1::2, 1::2]) * 0.25
        f //= 2
    return rgb


def to_u8(rgb):
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)


def progress(i, n, label):
    width = 30
    done = int(width * i / max(n, 1))
    sys.stderr.write(f"\r{label} [{'#' * done}{'.' * (width - done)}] {i}/{n}")
    if i == n:
        sys.stderr.write("\n")
    sys.stderr.flush()


def icon_svg(icons, name):
    """An Iconify icon → a standalone SVG (set defaults: 16×16 at 0,0), its view box padded to a
    square around the icon (Fluent has a few 32×33 icons)."""
    ic = icons["icons"][name]
    x, y, w, h = (ic.get(k, icons.get(k, d)) for k, d in (("left", 0), ("top", 0), ("width", 16), ("height", 16)))
    side = max(w, h)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'viewBox="{x - (side - w) / 2:g} {y - (side - h) / 2:g} {side:g} {side:g}">{ic["body"]}</svg>')


def render_all(jobs, cache):
    """jobs: [(svg, png path)]; renders those without a cached PNG or error through Node. resvg
    aborts the process on a few SVGs (a panic on extreme coordinates, as in linebender/resvg#941):
    that SVG is recorded as an error and a new renderer goes on with the rest."""
    todo = [(svg, out) for svg, out in jobs if not out.is_file() and not Path(f"{out}.err").is_file()]
    total = len(todo)
    cache.mkdir(parents=True, exist_ok=True)
    while todo:
        k = render_batch(todo, lambda i: progress(total - len(todo) + i, total, "rendering SVGs"))
        if k < len(todo):  # todo[k] killed the renderer
            Path(f"{todo[k][1]}.err").write_text("crashed the renderer (resvg)")
        todo = todo[k + 1:]
    if total:
        progress(total, total, "rendering SVGs")


def render_batch(todo, show):
    """Runs scripts/render-svg.mjs on todo; returns how many it finished before it exited."""
    import threading
    try:
        p = subprocess.Popen(["node", str(ROOT / "scripts" / "render-svg.mjs"), str(RENDER)], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError as e:
        raise DatasetError("`node` is not on PATH: the SVG sets are rendered with Node (scripts/render-svg.mjs)") from e

    def feed():
        try:
            for svg, out in todo:
                p.stdin.write(json.dumps({"svg": svg, "out": str(out)}) + "\n")
            p.stdin.close()
        except OSError:
            pass  # the renderer died (BrokenPipeError); the caller goes on after the SVG that killed it
    threading.Thread(target=feed, daemon=True).start()
    done = 0
    for _ in p.stdout:
        done += 1
        if done % 25 == 0:
            show(done)
    err = p.stderr.read()
    if p.wait() != 0 and done == 0 and "panic" not in err:
        raise DatasetError(f"scripts/render-svg.mjs failed (is @resvg/resvg-js installed? `npm ci`):\n{err[-2000:]}")
    return done


def iconify_items(src, node_modules, index, sibling, base_names, cache):
    """An Iconify set → ([(emoji, png path)], outcome counts, credit)."""
    d = node_modules / src.package
    info, icons = read_json(d / "info.json", src), read_json(d / "icons.json", src)
    lic = info.get("license", {})
    if lic.get("spdx") not in OPEN_LICENSES:
        raise DatasetError(f"{src.package}: license {lic.get('spdx')!r} is not one of the open licenses {sorted(OPEN_LICENSES)}")
    own = code_map(read_json(d / "chars.json", src)) if (d / "chars.json").is_file() else {}
    result = match_set(icons["icons"], icons.get("aliases", {}), index, own, sibling)
    counts = Counter(outcome for outcome, _, _ in result.values())
    items = []
    for name, (outcome, e, _) in result.items():
        if outcome == "matched" and e["name"] in base_names:
            svg = icon_svg(icons, name)
            key = hashlib.sha256(f"{RENDER}\n{svg}".encode()).hexdigest()[:32]
            items.append((e, cache / f"{key}.png", svg))
    items.sort(key=lambda item: item[0]["sort_order"])  # emoji-data's order, as the PNG sets
    version = read_json(d / "package.json", src).get("version", "?")
    author = info.get("author", {})
    cred = {"style": src.style, "package": src.package, "version": version, "title": info.get("name", src.package),
            "author": author.get("name", "?"), "url": author.get("url", ""), "license": lic.get("spdx"),
            "license_url": lic.get("url", ""), "attribution": src.attribution}
    return items, counts, cred


def png_items(src, node_modules, base):
    d = png_dir(src, node_modules)
    have = [e for e in base if e.get(f"has_img_{src.style}")]
    counts = Counter(matched=len(have), skin_tone=sum(len(e.get("skin_variations") or {}) for e in have))
    version = read_json(d / "package.json", src).get("version", "?") if (d / "package.json").is_file() else "?"
    cred = {"style": src.style, "package": src.package, "version": version, "title": src.title, "author": src.author,
            "url": src.url, "license": src.license, "license_url": src.license_url, "attribution": src.attribution}
    return [(e, d / "img" / src.style / "64" / e["image"], None) for e in have], counts, cred


def build(node_modules=ROOT / "node_modules", out=ROOT / "data", sources=SOURCES, cache=ROOT / ".cache" / "render",
          card=ROOT / "docs"):
    """Builds out/emoji.npz + out/emoji.json, and the card (card/data.md, card/data.png) unless card is None."""
    t0 = time.time()
    meta = read_json(png_dir(SOURCES[0], node_modules) / "emoji.json", SOURCES[0])
    base = sorted((e for e in meta if e["category"] != "Component"), key=lambda e: e["sort_order"])
    base_names = {e["name"] for e in base}
    categories = sorted({e["category"] for e in base})
    counts = Counter(w for e in base for w in words_of(e))
    vocab = sorted(w for w, c in counts.items() if c >= MIN_WORD_COUNT)
    index = EmojiIndex(meta)
    sibling = {}  # icon name → code points, from every set's chars.json (sets share CLDR names)
    for src in sources:
        chars = node_modules / src.package / "chars.json"
        if src.kind == "iconify" and chars.is_file():
            for k, v in code_map(read_json(chars, src)).items():
                sibling.setdefault(k, v)

    per_style, report, credits = [], {}, []
    for src in sources:
        if src.kind == "png":
            items, outcomes, cred = png_items(src, node_modules, base)
        else:
            items, outcomes, cred = iconify_items(src, node_modules, index, sibling, base_names, cache)
        per_style.append(items)
        report[src.style] = outcomes
        credits.append(cred)
    render_all([(svg, path) for items in per_style for _, path, svg in items if svg], cache)

    x64, x32, cat, style, words, names = read_images(sources, per_style, report, categories, vocab)
    out.mkdir(parents=True, exist_ok=True)
    held = np.array([held_out(nm) for nm in names], dtype=bool)
    np.savez_compressed(out / "emoji.npz", x32=x32, x64=x64, cat=cat, style=style, words=words, held=held)
    styles = [src.style for src in sources]
    info = {"categories": categories, "styles": styles, "vocab": vocab, "names": names,
            "count": len(names), "min_word_count": MIN_WORD_COUNT,
            "held_out": {"percent": HELD_OUT_PERCENT, "images": int(held.sum()),
                         "emoji": sorted({nm for nm, h in zip(names, held) if h})},
            "sources": credits, "outcomes": {k: dict(v) for k, v in report.items()},
            "seconds": round(time.time() - t0, 1),
            "sha256_x32": hashlib.sha256(x32.tobytes()).hexdigest()}
    (out / "emoji.json").write_text(json.dumps(info, indent=1))
    if card is not None:
        from train.card import write_card
        write_card(info, x64, x32, cat, style, card)
    print(f"{len(names)} images ({len(base)} emoji, {len(styles)} styles), {len(categories)} categories, "
          f"{len(vocab)} words (≥{MIN_WORD_COUNT} uses), {int(held.sum())} held out → {out} in {info['seconds']} s")
    return info


def read_images(sources, per_style, report, categories, vocab):
    """Every listed image → arrays (64×64, 32×32, category, style, words) and names; an image that
    cannot be read is skipped and moved from "matched" to "malformed" in report."""
    n = sum(len(items) for items in per_style)
    widx = {w: i for i, w in enumerate(vocab)}
    x64 = np.zeros((n, 64, 64, 3), np.uint8)
    x32 = np.zeros((n, 32, 32, 3), np.uint8)
    cat, style = np.zeros(n, np.int64), np.zeros(n, np.int64)
    words = np.zeros((n, len(vocab)), np.uint8)
    names, errors, seen = [], [], 0
    for s, (src, items) in enumerate(zip(sources, per_style)):
        size = 64 if src.kind == "png" else RENDER
        for e, path, _ in items:
            seen += 1
            if seen % 100 == 0 or seen == n:
                progress(seen, n, "reading images")
            rgb = composite(path, size)
            if rgb is None:
                err = Path(f"{path}.err")
                errors.append(f"{src.style} {e['name']}: "
                              + (err.read_text() if err.is_file() else f"{path.name} unreadable or not {size}×{size}"))
                report[src.style]["matched"] -= 1
                report[src.style]["malformed"] += 1
                continue
            i = len(names)
            rgb = area_down(rgb, size // 64)
            x64[i], x32[i] = to_u8(rgb), to_u8(area_down(rgb, 2))
            cat[i], style[i] = categories.index(e["category"]), s
            words[i, [widx[w] for w in words_of(e) if w in widx]] = 1
            names.append(e["name"].lower())
    for msg in errors[:10]:
        print(f"skipped: {msg}", file=sys.stderr)
    if len(errors) > 10:
        print(f"… and {len(errors) - 10} more skipped (see the card)", file=sys.stderr)
    k = len(names)
    return x64[:k], x32[:k], cat[:k], style[:k], words[:k], names


class EmojiData:
    """The built dataset as float tensors in [-1, 1] (NCHW) plus label groups."""

    def __init__(self, path=ROOT / "data"):
        path = Path(path)
        if not (path / "emoji.npz").is_file():
            raise DatasetError(f"{path}/emoji.npz not found: build it with `npm run dataset`")
        z = self._npz = np.load(path / "emoji.npz")
        self.path = path
        self.info = json.loads((path / "emoji.json").read_text())
        self.cat, self.style, self.words = z["cat"], z["style"], z["words"]
        if "held" not in z:
            raise DatasetError(f"{path}/emoji.npz predates the held-out split: rebuild it with `npm run dataset`")
        self.held = z["held"]  # rows of held-out emoji identities: never trained on
        self.train_rows = np.flatnonzero(~self.held)
        self.n_cat = len(self.info["categories"])
        self.n_style = len(self.info["styles"])
        self.n_words = len(self.info["vocab"])

    @functools.cached_property
    def x32(self):
        """The 32×32 images; a 64×64 copy of the data (copy_64) has none: then area-downsampled from x64 (the
        built ones are downsampled from the unrounded renders, so these can differ from them by 1 in 255)."""
        if "x32" in self._npz:
            return self._npz["x32"]
        x = self.x64.reshape(-1, 32, 2, 32, 2, 3).astype(np.float32).mean(axis=(2, 4))
        return np.round(x).astype(np.uint8)

    @functools.cached_property
    def x64(self):
        """The 64×64 renders, read on first use: a 32×32-only copy of the data (train/gpu.sh) omits them, a
        64×64 copy keeps them LZMA-compressed in x64.xz (copy_64)."""
        if "x64" in self._npz:
            return self._npz["x64"]
        if (self.path / X64_XZ).is_file():
            raw = lzma.decompress((self.path / X64_XZ).read_bytes())
            return np.frombuffer(raw, np.uint8).reshape(len(self.cat), 64, 64, 3)
        raise DatasetError("this copy of the dataset has no 64×64 images (x64): train with --crop64 0 at 32×32")

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


def copy_32(src: Path, dst: Path):
    """The built data without its 64×64 renders (10 MB instead of 35): what train/gpu.sh carries to a GPU machine."""
    z = np.load(src / "emoji.npz")
    dst.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(dst / "emoji.npz", **{k: z[k] for k in z.files if k != "x64"})
    (dst / "emoji.json").write_text((src / "emoji.json").read_text())


X64_XZ = "x64.xz"


def copy_64(src: Path, dst: Path):
    """The training images at 64×64 and their labels, without the held-out emoji or the 32×32 images, for
    training at 64×64 on a GPU machine: the 13,262 training renders (163 MB as uint8) as one LZMA stream of
    their raw bytes, 18.7 MB (1.4 KB an image; lossless WebP took 2.8 KB an image, 2.1 KB as one atlas)."""
    z = np.load(src / "emoji.npz")
    rows = np.flatnonzero(~z["held"])
    info = json.loads((src / "emoji.json").read_text())
    info.update(names=[info["names"][r] for r in rows], count=len(rows), rows="training identities only")
    dst.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(dst / "emoji.npz", **{k: z[k][rows] for k in z.files if k not in ("x32", "x64")})
    (dst / X64_XZ).write_bytes(lzma.compress(np.ascontiguousarray(z["x64"][rows]).tobytes()))
    (dst / "emoji.json").write_text(json.dumps(info, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    ap.add_argument("--out", type=Path, default=ROOT / "data")
    ap.add_argument("--cache", type=Path, default=ROOT / ".cache" / "render", help="rendered SVGs, by content hash")
    ap.add_argument("--card", type=Path, default=ROOT / "docs", help="where data.md and data.png go")
    ap.add_argument("--copy-32", type=Path, metavar="DIR",
                    help="instead of building: copy the built data in --out to DIR without its 64×64 images")
    ap.add_argument("--copy-64", type=Path, metavar="DIR",
                    help="instead of building: copy the training images at 64×64 and their labels to DIR (19 MB)")
    a = ap.parse_args()
    if a.copy_32:
        return copy_32(a.out, a.copy_32)
    if a.copy_64:
        return copy_64(a.out, a.copy_64)
    try:
        build(a.node_modules, a.out, cache=a.cache, card=a.card)
    except DatasetError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
