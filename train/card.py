"""The dataset card (docs/data.md) and its contact sheet (docs/data.png), written by train/dataset.py."""
from collections import Counter
from pathlib import Path

import numpy as np

from train.match import OUTCOMES
from train.sources import ATTRIBUTION_REQUIRED, credit

SHEET_COLUMNS = 16


def sheet_rows(names, style, n_styles, columns=SHEET_COLUMNS):
    """Dataset rows for the contact sheet: per style, the same emoji (those every style has, spread
    over the sort order; others where too few are shared), so the rows compare designs."""
    by_style = [{names[r]: r for r in np.flatnonzero(style == s)} for s in range(n_styles)]
    shared = [n for n in by_style[0] if all(n in b for b in by_style)]
    pick = [shared[int(k)] for k in np.linspace(0, len(shared) - 1, min(columns, len(shared)))] if shared else []
    return [[b[n] for n in pick] or list(b.values())[:columns] for b in by_style]


def contact_sheet(x64, rows, labels, path):
    from PIL import Image, ImageDraw
    label_w, pad = 96, 2
    cols = max(len(r) for r in rows)
    im = Image.new("RGB", (label_w + cols * (64 + pad), len(rows) * (64 + pad)), "white")
    draw = ImageDraw.Draw(im)
    for y, (row, label) in enumerate(zip(rows, labels)):
        draw.text((4, y * (64 + pad) + 26), label, fill="black")
        for x, r in enumerate(row):
            im.paste(Image.fromarray(x64[r]), (label_w + x * (64 + pad), y * (64 + pad)))
    im.save(path, optimize=True)


def style_distances(names, x32, style, n_styles, near=3):
    """Per pair of styles, over the emoji both have: how many, the median mean |Δ| of their 32×32
    pixels (0–255), and how many are near-identical (mean |Δ| < near). Closest pairs first."""
    rows = [{n: r for n, r in zip(np.array(names)[style == s], np.flatnonzero(style == s))} for s in range(n_styles)]
    out = []
    for a in range(n_styles):
        for b in range(a + 1, n_styles):
            pairs = np.array([(rows[a][n], rows[b][n]) for n in rows[a] if n in rows[b]])
            if len(pairs):
                d = np.abs(x32[pairs[:, 0]].astype(np.int16) - x32[pairs[:, 1]]).mean(axis=(1, 2, 3))
                out.append((a, b, len(pairs), float(np.median(d)), int((d < near).sum())))
    return sorted(out, key=lambda r: r[3])


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]


def write_card(info, x64, x32, cat, style, folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    styles, cats = info["styles"], info["categories"]
    contact_sheet(x64, sheet_rows(info["names"], style, len(styles)), styles, folder / "data.png")
    per = Counter(zip(style.tolist(), cat.tolist()))
    lines = [
        "# Emoji dataset card",
        "",
        "Written by `npm run dataset` (train/dataset.py); do not edit by hand.",
        "",
        f"**{info['count']:,} images** of {len(set(info['names'])):,} emoji (by name) in {len(styles)} styles, "
        f"{len(cats)} categories, {len(info['vocab'])} words (used by ≥{info['min_word_count']} emoji). "
        f"Each image is composited on white at 64×64 and area-downsampled to 32×32. "
        f"Held out (never trained on, every style of the emoji alike): {info['held_out']['percent']}% of the "
        f"emoji identities, {info['held_out']['images']:,} images.",
        "",
        "## Images per style and category",
        "",
    ]
    lines += table(["style"] + cats + ["total"],
                   [[s] + [per[(i, j)] for j in range(len(cats))] + [sum(per[(i, j)] for j in range(len(cats)))]
                    for i, s in enumerate(styles)]
                   + [["total"] + [sum(per[(i, j)] for i in range(len(styles))) for j in range(len(cats))] + [info["count"]]])
    keys = list(OUTCOMES)
    lines += ["", "## Icons per set: matched and skipped", "",
              "PNG sets list their emoji in emoji-data's `emoji.json`; Iconify sets are matched by code point "
              "(the set's own `chars.json`, or a sibling set's for the same CLDR names), then by name "
              "(train/match.py). Each icon counts once:", ""]
    lines += [f"- **{k}**: {v}" for k, v in OUTCOMES.items()]
    lines += [""]
    lines += table(["style", "package"] + keys,
                   [[c["style"], f"`{c['package']}` {c['version']}"] + [info["outcomes"][c["style"]].get(k, 0) for k in keys]
                    for c in info["sources"]])
    dist = style_distances(info["names"], x32, style, len(styles))
    lines += ["", "## No set repeats another", "",
              "Where two sets have the same emoji, how far apart their 32×32 images are (mean absolute difference "
              "per pixel channel, 0–255): the closest pairs. (`@iconify-json/noto` is left out for this reason: it is the "
              "google PNGs' design.)", ""]
    lines += table(["styles", "shared emoji", "median difference", "near-identical (< 3)"],
                   [[f"{styles[a]} / {styles[b]}", n, f"{m:.1f}", k] for a, b, n, m, k in dist[:4]])
    lines += ["", "## Contact sheet", "", "One row per style, the same emoji in each row (64×64).", "",
              "![contact sheet](data.png)", "", "## Licenses and attribution", ""]
    lines += table(["style", "set", "license", "attribution"],
                   [[c["style"], c["title"], c["license"] + (" (attribution required)" if c["license"] in ATTRIBUTION_REQUIRED else ""),
                     credit(c)] for c in info["sources"]])
    lines += ["", "emoji-data (names, categories, the PNG packages) is MIT-licensed; the images are the sets' own. "
              "CC BY-SA sets (OpenMoji, EmojiOne 1) ask that adaptations of the artwork be shared alike.", ""]
    (folder / "data.md").write_text("\n".join(lines))
