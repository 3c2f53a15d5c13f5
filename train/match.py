"""Matching Iconify icons to emoji-data's emoji: by code points where a code-point map names the
icon, otherwise by name (Unicode/CLDR names, short names, aliases, dropped qualifiers).

Every icon ends in one outcome (OUTCOMES); only "matched" icons become images.
"""
import re

SKIN_TONES = {"1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF"}
# Skin-tone suffixes in icon names: CLDR ("-medium-dark-skin-tone"), EmojiOne ("-tone3"), Fluent ("-medium-dark").
SKIN_SUFFIX = re.compile(r"(-(light|medium-light|medium|medium-dark|dark)(-skin-tone)?|-tone[1-5]?)$")
# Qualifiers some sets add to, or leave off, a CLDR name ("a-button-blood-type", "keycap-1" vs "keycap-digit-one").
QUALIFIERS = ("-blood-type", "-sign", "-symbol", "-emoji")
NUMBERED = re.compile(r"-[1-9]$")  # Streamline's drawings of one emoji ("waving-hand-1", "-2")
# EmojiOne's "flag-for-canada", "flag-for-flag-japan", "flag-for-white-flag"
PREFIXES = [("flag-for-flag-", "flag-"), ("flag-for-", "flag-"), ("flag-for-", "")]
# Older names of emoji that emoji-data and CLDR call otherwise now (EmojiOne, Noto v1).
RENAMED = {"man-with-chinese-cap": "man-with-gua-pi-mao", "smiling-cat-face-with-heart-eyes": "heart-eyes-cat",
           "blond-haired-person": "person-with-blond-hair", "heavy-heart-exclamation": "heavy-heart-exclamation-mark-ornament",
           "flag-for-turkey": "flag-tr", "flag-for-myanmar": "flag-mm", "flag-for-cocos-islands": "flag-cc"}
OUTCOMES = {
    "matched": "became an image",
    "skin_tone": "a skin-tone variant of a base emoji (left out, as for every style)",
    "duplicate": "a second icon for an emoji this set already has",
    "component": "an emoji-data \"Component\" (skin-tone or hair swatch), not an emoji",
    "unmatched": "no emoji in emoji-data by code point or by name",
    "hidden": "marked hidden in the package (a deprecated copy)",
    "malformed": "the SVG did not render",
}


def cps_key(cps):
    """'1f600-FE0F' → '1F600': upper-case hex, variation selectors dropped."""
    return "-".join(c for c in cps.upper().replace("_", "-").split("-") if c and c != "FE0F")


def tokens(text):
    text = re.sub(r"[’'.]", "", text.lower().replace("&", " and "))
    return re.findall(r"[a-z0-9]+", text)


def name_keys(text):
    """Ways one name can be spelt: hyphenated, squashed (fxemoji's 'alarmclock'), words in any order."""
    t = tokens(text)
    if not t:
        return []
    return ["-".join(t), "".join(t), " ".join(sorted(t))]


class EmojiIndex:
    """emoji-data's emoji (every category, Components too) by code points and by name."""

    def __init__(self, emoji):
        self.by_cps, self.by_name = {}, {}
        for e in emoji:
            for cps in (e.get("unified"), e.get("non_qualified"), e.get("obsoleted_by")):
                if cps:
                    self.by_cps.setdefault(cps_key(cps), e)
        ambiguous = set()
        for e in emoji:
            for text in [e["name"]] + list(e.get("short_names") or []):
                for k in name_keys(text):
                    if self.by_name.get(k, e) is not e:
                        ambiguous.add(k)
                    self.by_name.setdefault(k, e)
        for k in ambiguous:  # two emoji spelt the same way: neither is a safe match
            del self.by_name[k]

    def code(self, cps):
        return self.by_cps.get(cps_key(cps))

    def name(self, name):
        for k in name_keys(name):
            if k in self.by_name:
                return self.by_name[k]
        if name in RENAMED:
            return self.name(RENAMED[name])
        for p, to in PREFIXES:
            e = self.name(to + name[len(p):]) if name.startswith(p) else None
            if e:
                return e
        for q in QUALIFIERS:
            if name.endswith(q):
                return self.name(name[: -len(q)])
        if NUMBERED.search(name):
            return self.name(NUMBERED.sub("", name))
        return None


def code_map(chars):
    """Iconify chars.json (code points → icon name) → icon name → code points; each name also
    squashed ("redheart": fxemoji spells CLDR names without hyphens)."""
    out = {}
    for cps, name in chars.items():
        out.setdefault(name, cps)
    for name, cps in list(out.items()):
        out.setdefault(name.replace("-", ""), cps)
    return out


def spellings(name):
    """The name as given, then with its qualifier added, dropped or replaced ("a-button" → "a-button-blood-type")."""
    out = [name] + [name + q for q in QUALIFIERS]
    out += [name[: -len(q)] for q in QUALIFIERS if name.endswith(q)]
    out += [to + name[len(p):] for p, to in PREFIXES if name.startswith(p)]
    return out + ([NUMBERED.sub("", name)] if NUMBERED.search(name) else [])


def match_icon(names, index, own_codes, sibling_codes):
    """names: the icon's name then its aliases' names. → (outcome, emoji or None, how)."""
    for codes, how in ((own_codes, "code point"), (sibling_codes, "sibling code point")):
        for n in (s for name in names for s in spellings(name)):
            if n in codes:
                cps = cps_key(codes[n]).split("-")
                if SKIN_TONES & set(cps) and len(cps) > 1:
                    return "skin_tone", None, how
                e = index.code(codes[n])
                if e:
                    return ("component" if e["category"] == "Component" else "matched"), e, how
    for n in names:
        e = index.name(n)
        if e:
            return ("component" if e["category"] == "Component" else "matched"), e, "name"
    for n in names:
        e = index.name(f"flag-{n}")  # Streamline's countries: "canada"
        if e and e["category"] == "Flags":
            return "matched", e, "name"
    for n in names:
        stem = SKIN_SUFFIX.sub("", n)
        if stem != n and (stem in own_codes or stem in sibling_codes or index.name(stem)):
            return "skin_tone", None, "name"
    return "unmatched", None, None


def match_set(icons, aliases, index, own_codes, sibling_codes):
    """Iconify icons.json parts → {icon name: (outcome, emoji or None, how)}.

    One icon per emoji: the first by name order (a set's plain name sorts before its qualified
    copies) wins, later ones count as duplicates."""
    alias_of = {}
    for a, v in aliases.items():
        if set(v) == {"parent"}:  # transformed aliases (flipped, rotated) are other pictures
            alias_of.setdefault(v["parent"], []).append(a)
    result, taken = {}, {}
    for name in sorted(icons):
        if icons[name].get("hidden"):
            result[name] = ("hidden", None, None)
            continue
        outcome, e, how = match_icon([name] + sorted(alias_of.get(name, [])), index, own_codes, sibling_codes)
        if outcome == "matched" and e["name"] in taken:
            outcome = "duplicate"
        elif outcome == "matched":
            taken[e["name"]] = name
        result[name] = (outcome, e, how)
    return result
