"""The emoji sets the dataset is built from: one style each, with its npm package and license.

PNG sets (emoji-data's packages) list their images in emoji.json; Iconify sets are SVG icons
matched to emoji-data's emoji (train/match.py). An Iconify set's license and author are read from
its package's info.json at build time, so the card says what the installed package says.
`@iconify-json/noto` is left out on purpose: it is the same Noto design as the "google" PNGs.
"""
from dataclasses import dataclass

# Licenses whose artwork may be trained on and redistributed (with attribution where they ask).
OPEN_LICENSES = {"Apache-2.0", "MIT", "CC-BY-4.0", "CC-BY-SA-4.0", "OFL-1.1"}
ATTRIBUTION_REQUIRED = {"CC-BY-4.0", "CC-BY-SA-4.0"}


@dataclass(frozen=True)
class Source:
    style: str  # the style label the model learns and the page offers
    package: str  # npm package
    kind: str  # "png" (emoji-data) | "iconify"
    title: str = ""  # for PNG sets; Iconify sets take theirs from info.json
    license: str = ""  # SPDX, for PNG sets
    license_url: str = ""
    author: str = ""
    url: str = ""
    attribution: str = ""  # the wording a set asks for, where it asks for one


SOURCES = [
    Source("google", "emoji-datasource-google", "png", "Noto Emoji", "Apache-2.0",
           "https://www.apache.org/licenses/LICENSE-2.0", "Google", "https://github.com/googlefonts/noto-emoji"),
    Source("twitter", "emoji-datasource-twitter", "png", "Twemoji", "CC-BY-4.0",
           "https://creativecommons.org/licenses/by/4.0/", "Twitter, Inc and other contributors",
           "https://github.com/twitter/twemoji"),
    Source("openmoji", "@iconify-json/openmoji", "iconify", attribution="All emojis designed by OpenMoji – the "
           "open-source emoji and icon project. License: CC BY-SA 4.0"),
    Source("fluent-flat", "@iconify-json/fluent-emoji-flat", "iconify"),
    Source("fluent-color", "@iconify-json/fluent-emoji", "iconify"),
    Source("noto-v1", "@iconify-json/noto-v1", "iconify"),
    Source("emojione", "@iconify-json/emojione", "iconify"),
    Source("emojione-v1", "@iconify-json/emojione-v1", "iconify"),
    Source("streamline", "@iconify-json/streamline-emojis", "iconify"),
    Source("fxemoji", "@iconify-json/fxemoji", "iconify"),
]


def credit(c):
    """One line of attribution from a source's credit dict (title, author, url, license, license_url,
    and the set's own wording if it asks for one)."""
    line = f"{c['title']} by {c['author']} ({c['url']}), {c['license']} ({c['license_url']})"
    return f"{line}. {c['attribution']}" if c.get("attribution") else line
