"""How messages name an annotation: "Lesion 1, ruler 2", never its UUID.

Annotations are numbered by kind within their lesion, in the lesion's order,
so a reader can find the one meant in the Lesions panel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imaging_viewer.core.annotations.model import Annotation, Lesion


def annotation_name(lesion: Lesion, annotation: Annotation, fallback: str = "") -> str:
    """``"Lesion 1, ruler 2"``: the lesion's label (``fallback`` if it has
    none), the annotation's kind and its number among that kind in the lesion."""
    kind = annotation.kind.replace("_", " ")
    same_kind = [a.id for a in lesion.annotations if a.kind == annotation.kind]
    number = same_kind.index(annotation.id) + 1 if annotation.id in same_kind else 1
    label = lesion.label or fallback or "lesion"
    return f"{label}, {kind} {number}"
