"""Copy the toolbar icons from Tabler Icons into resources/icons/.

Usage: ``npm pack @tabler/icons@3.51.0 && tar xzf tabler-icons-3.51.0.tgz``, then
``python packaging/import_icons.py package/`` from the clone.

Each icon keeps Tabler's drawing; only its stroke colour changes from
``currentColor`` (black in Qt's SVG renderer) to the dark theme's text colour, so
the icons read on the viewer's dark toolbars. Tabler Icons are MIT-licensed
(resources/LICENSES/tabler-icons.txt).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

TABLER_VERSION = "3.51.0"
STROKE = "#dcdcdc"
"""The dark palette's text colour (ui/app.py ``apply_dark_theme``: 220, 220, 220)."""

ICONS = {
    # our name: Tabler's outline icon
    "document-open": "file",
    "folder-open": "folder-open",
    "disc": "disc",
    "export": "file-export",
    "copy": "copy",
    "teaching": "school",
    "layout-1x1": "square",
    "layout-1x2": "layout-columns",
    "layout-2x1": "layout-rows",
    "layout-2x2": "layout-grid",
    "mpr": "cube-3d-sphere",
    "link": "link",
    "crosshair": "crosshair",
    "overlays": "stack-2",
    "zoom-fit": "arrows-maximize",
    "zoom-original": "zoom-reset",
    "rotate-right": "rotate-clockwise",
    "flip-horizontal": "flip-vertical",  # Tabler names the mirror axis
    "flip-vertical": "flip-horizontal",
    "invert": "contrast",
    "window-level": "brightness-half",
    "auto-window": "wand",
    "pan": "hand-move",
    "zoom": "zoom-in",
    "select": "pointer",
    "point": "circle-dot",
    "arrow": "arrow-up-right",
    "text": "letter-t",
    "ruler": "ruler-2",
    "angle": "angle",
    "cobb": "vector-triangle",
    "ellipse": "oval",
    "polygon": "polygon",
    "bidirectional": "arrows-cross",
    "undo": "arrow-back-up",
    "redo": "arrow-forward-up",
    "delete": "trash",
    "tags": "tags",
    "help": "help",
    "cine": "movie",
    "key-image": "key",
    "magnifier": "zoom-in-area",
    "calibrate": "ruler-measure",
}


def main(argv: list[str]) -> int:
    """Copy (and recolour) every icon of :data:`ICONS`; returns the exit status."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    tabler = Path(argv[0])
    target = Path(__file__).resolve().parents[1] / "resources" / "icons"
    target.mkdir(parents=True, exist_ok=True)
    for name, source in sorted(ICONS.items()):
        svg = (tabler / "icons" / "outline" / f"{source}.svg").read_text()
        svg = svg.replace('stroke="currentColor"', f'stroke="{STROKE}"')
        (target / f"{name}.svg").write_text(svg)
    licences = target.parent / "LICENSES"
    licences.mkdir(exist_ok=True)
    shutil.copyfile(tabler / "LICENSE", licences / "tabler-icons.txt")
    print(f"{len(ICONS)} icons from Tabler Icons {TABLER_VERSION} in {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
