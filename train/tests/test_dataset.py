"""The dataset builder on a fake Iconify set (every outcome once) and on the real npm packages."""
import json
import re

import numpy as np
import pytest

from train import dataset
from train.match import EmojiIndex, code_map, match_icon
from train.sources import Source, SOURCES
from train.tests.test_train import EMOJI, PNG_SOURCES, fake_packages

RED_TOP = '<rect width="16" height="8" fill="#f00"/>'  # top half red, bottom half transparent
FAKE_ICONS = {
    "prefix": "fake", "width": 16, "height": 16,
    "icons": {
        "cat": {"body": RED_TOP},  # matched by its own chars.json code point
        "grinning-cat-face": {"body": RED_TOP},  # by name (CLDR-style spelling of the Unicode name)
        "cat-medium-skin-tone": {"body": RED_TOP},  # a skin-tone variant
        "cat-old": {"body": RED_TOP, "hidden": True},
        "red-heart": {"body": '<path d="M0 0 L16'},  # malformed: does not parse
        "rocket": {"body": RED_TOP},  # no such emoji in EMOJI
        "kitty": {"body": RED_TOP},  # an alias names it CAT too: a duplicate
    },
    "aliases": {"cat2": {"parent": "kitty"}},
}
FAKE_CHARS = {"1f408": "cat", "1f408-1f3fd": "cat-medium-skin-tone"}
FAKE_EMOJI = [dict(e, unified=u) for e, u in zip(EMOJI, ["1F639", "1F408", "2764-FE0F", "1F3FB"])]
FAKE = Source("fake", "@iconify-json/fake", "iconify")


def fake_iconify(root):
    fake_packages(root)
    for src in PNG_SOURCES:
        (root / src.package / "emoji.json").write_text(json.dumps(FAKE_EMOJI))
    d = root / FAKE.package
    d.mkdir(parents=True)
    (d / "icons.json").write_text(json.dumps(FAKE_ICONS))
    (d / "chars.json").write_text(json.dumps(FAKE_CHARS))
    (d / "package.json").write_text('{"version": "1.0.0"}')
    (d / "info.json").write_text(json.dumps({"name": "Fake Emoji", "author": {"name": "Someone", "url": "https://x"},
                                             "license": {"spdx": "CC-BY-4.0", "url": "https://cc"}}))
    return root


def test_iconify_outcomes_pixels_card_and_stable_split(tmp_path):
    nm = fake_iconify(tmp_path / "nm")
    build = lambda out: dataset.build(nm, tmp_path / out, sources=PNG_SOURCES + [FAKE], cache=tmp_path / "cache",
                                      card=tmp_path / out / "card")
    info = build("a")
    assert info["styles"] == ["google", "twitter", "fake"]
    assert info["outcomes"]["fake"] == {"matched": 2, "duplicate": 1, "skin_tone": 1, "hidden": 1, "malformed": 1,
                                        "unmatched": 1}
    d = dataset.EmojiData(tmp_path / "a")
    fake_rows = np.flatnonzero(d.style == 2)
    assert [info["names"][r] for r in fake_rows] == ["cat", "grinning cat face"]  # in emoji-data's sort order
    x = d.x32[fake_rows]
    assert (x[:, :16] == (255, 0, 0)).all() and (x[:, 16:] == 255).all()  # rendered, composited on white
    card = (tmp_path / "a" / "card" / "data.md").read_text()
    assert "| fake | `@iconify-json/fake` 1.0.0 | 2 | 1 | 1 | 0 | 1 | 1 | 1 |" in card
    assert "Fake Emoji by Someone (https://x), CC-BY-4.0 (https://cc)" in card
    assert (tmp_path / "a" / "card" / "data.png").is_file()
    # Again, from the render cache: the same bytes and the same held-out split.
    assert list((tmp_path / "cache").glob("*.err"))  # the malformed SVG's error is cached too
    again = build("b")
    assert again["outcomes"] == info["outcomes"] and again["sha256_x32"] == info["sha256_x32"]
    assert (np.load(tmp_path / "a" / "emoji.npz")["held"] == np.load(tmp_path / "b" / "emoji.npz")["held"]).all()


def test_closed_license_is_refused(tmp_path):
    nm = fake_iconify(tmp_path / "nm")
    info = nm / FAKE.package / "info.json"
    info.write_text(info.read_text().replace("CC-BY-4.0", "proprietary"))
    with pytest.raises(dataset.DatasetError, match="'proprietary' is not one of the open licenses"):
        dataset.build(nm, tmp_path / "d", sources=[FAKE], cache=tmp_path / "c", card=None)


EMOJI_DATA = [
    {"name": "NEGATIVE SQUARED LATIN CAPITAL LETTER A", "short_names": ["a"], "unified": "1F170-FE0F", "category": "Symbols"},
    {"name": "Canada Flag", "short_names": ["flag-ca"], "unified": "1F1E8-1F1E6", "category": "Flags"},
    {"name": "ALARM CLOCK", "short_names": ["alarm_clock"], "unified": "23F0", "category": "Objects"},
    {"name": "WAVING HAND SIGN", "short_names": ["wave"], "unified": "1F44B", "category": "People & Body"},
    {"name": "HEAVY BLACK HEART", "short_names": ["heart"], "unified": "2764-FE0F", "category": "Smileys & Emotion"},
    {"name": "VERTICAL TRAFFIC LIGHT", "short_names": ["vertical_traffic_light"], "unified": "1F6A6", "category": "Travel & Places"},
]


@pytest.mark.parametrize("name, expected", [
    ("a-button", ("matched", "1F170-FE0F")),  # sibling map knows "a-button-blood-type"
    ("flag-for-canada", ("matched", "1F1E8-1F1E6")),  # EmojiOne's prefix, words in another order
    ("alarmclock", ("matched", "23F0")),  # fxemoji's squashed names
    ("redheart", ("matched", "2764-FE0F")),  # … of CLDR names in the sibling map (red-heart)
    ("waving-hand-2", ("matched", "1F44B")),  # Streamline's numbered drawings
    ("canada", ("matched", "1F1E8-1F1E6")),  # Streamline's bare country names
    ("waving-hand-medium-dark", ("skin_tone", None)),  # Fluent's skin-tone suffix
    ("waving-hand-tone3", ("skin_tone", None)),  # EmojiOne's
    ("vertical-traffic-light", ("matched", "1F6A6")),  # "-light" that is not a skin tone
    ("rocket", ("unmatched", None)),
])
def test_name_matching(name, expected):
    sibling = code_map({"1f170": "a-button-blood-type", "1f44b": "waving-hand", "2764-fe0f": "red-heart"})
    outcome, e, _ = match_icon([name], EmojiIndex(EMOJI_DATA), {}, sibling)
    assert (outcome, e and e["unified"]) == expected


def card_numbers():
    """The committed card's per-set outcome rows and total: {style: {outcome: n}}, total."""
    card = (dataset.ROOT / "docs" / "data.md").read_text()
    header = next(l for l in card.splitlines() if l.startswith("| style | package |"))
    keys = [k.strip() for k in header.strip("|").split("|")][2:]
    rows = {}
    for line in card.splitlines():
        m = re.match(r"\| ([\w-]+) \| `[^`]+` [\d.]+ \|(.*)\|$", line)
        if m:
            rows[m[1]] = {k: int(v) for k, v in zip(keys, m[2].split("|")) if int(v)}
    return rows, int(re.search(r"\*\*([\d,]+) images\*\*", card)[1].replace(",", ""))


@pytest.mark.skipif(not (dataset.ROOT / "node_modules" / "@iconify-json" / "openmoji").is_dir(), reason="needs `npm ci`")
def test_real_packages_give_the_card_numbers(tmp_path):
    """The whole build from the installed packages (renders cached under .cache/render/: about a
    minute cold on 2 cores) agrees with docs/data.md, so the card is never stale."""
    info = dataset.build(out=tmp_path / "data", card=None)
    rows, total = card_numbers()
    assert info["count"] == total > 11_000
    assert info["styles"] == [s.style for s in SOURCES] and len(info["styles"]) >= 8
    assert {s: {k: v for k, v in o.items() if v} for s, o in info["outcomes"].items()} == rows
    d = dataset.EmojiData(tmp_path / "data")
    held = set(np.array(info["names"])[d.held])
    assert held == set(info["held_out"]["emoji"]) and 0.03 < len(held) / len(set(info["names"])) < 0.07
    for name in held:  # every style of a held-out emoji is held out
        assert d.held[[i for i, n in enumerate(info["names"]) if n == name]].all()


def test_export_style_info_ships_a_real_image_per_style(tmp_path):
    import base64, io
    from PIL import Image
    from train.export import style_info
    from train.tests.test_train import build_fake
    build_fake(tmp_path)
    d = dataset.EmojiData(tmp_path / "data")
    info = style_info(["twitter", "comic"], d)  # "comic": a style the dataset lacks gets no entry
    assert list(info) == ["twitter"]
    t = info["twitter"]
    png = base64.b64decode(t["preview"].removeprefix("data:image/png;base64,"))
    row = np.flatnonzero(d.style == 1)[0]  # no preferred face in the fake data: the style's first image
    assert (np.asarray(Image.open(io.BytesIO(png)).convert("RGB")) == d.x32[row]).all()
    assert t["preview_emoji"] == d.info["names"][row] and "CC-BY-4.0" in t["credit"]


def test_export_word_categories_count_training_emoji_by_name(tmp_path):
    """Each word's count per category, against a plain loop over the training rows' names; held-out rows,
    a category and a word the dataset lacks count nothing."""
    from train.export import word_categories
    from train.tests.test_train import build_fake
    build_fake(tmp_path)
    d = dataset.EmojiData(tmp_path / "data")
    labels = {"categories": [*d.info["categories"], "Comics"], "vocab": [*d.info["vocab"], "zeppelin"]}
    counts = np.array(word_categories(labels, d))
    assert counts.shape == (len(labels["vocab"]), len(labels["categories"]))
    want = np.zeros_like(counts)
    for r in range(len(d.cat)):
        if d.held[r]:
            continue
        for w, word in enumerate(d.info["vocab"]):
            want[w, d.cat[r]] += int(d.words[r, w])
    assert (counts == want).all() and counts.sum() > 0
    assert counts[:, -1].sum() == 0 and counts[-1].sum() == 0
    assert d.held.any()  # the fake data holds some identities out, so leaving them out is tested


def test_an_svg_that_kills_the_renderer_is_recorded_and_the_rest_render(tmp_path, monkeypatch):
    """resvg aborts the whole Node process on a few real SVGs (noto-v1 has 7): a fake renderer that
    dies on "CRASH" stands in for it, since which SVGs trigger it depends on resvg's version."""
    jobs = [(f"<svg>{'CRASH' if i == 2 else i}</svg>", tmp_path / f"{i}.png") for i in range(5)]
    batches = []

    def fake_batch(todo, show):
        batches.append(len(todo))
        for k, (svg, out) in enumerate(todo):
            if "CRASH" in svg:
                return k
            out.write_bytes(b"png")
        return len(todo)
    monkeypatch.setattr(dataset, "render_batch", fake_batch)
    dataset.render_all(jobs, tmp_path)
    assert batches == [5, 2]  # restarted after the crash with the two SVGs left
    assert [p.is_file() for _, p in jobs] == [True, True, False, True, True]
    assert (tmp_path / "2.png.err").read_text() == "crashed the renderer (resvg)"
    batches.clear()
    dataset.render_all(jobs, tmp_path)  # everything cached, the crash included
    assert batches == []


def test_style_distances_find_a_repeated_set():
    from train.card import style_distances
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    x32 = np.concatenate([a, a, 255 - a[:2]])  # style 1 repeats style 0; style 2 is its negative
    names = ["x", "y", "z"] * 2 + ["x", "y"]
    style = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    d = style_distances(names, x32, style, 3)
    assert d[0] == (0, 1, 3, 0.0, 3)  # closest first: identical, all three near-identical
    assert {(a, b, n) for a, b, n, _, _ in d[1:]} == {(0, 2, 2), (1, 2, 2)} and all(m > 50 for *_, m, _ in d[1:])
