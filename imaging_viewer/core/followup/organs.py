"""Organs a lesion is counted in for RECIST 1.1, and the organ of a coded site.

RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009, section 4.2) takes at most two
target lesions per organ; lymph nodes count as one organ together, whatever
their site. Bone lesions are measurable only with a soft-tissue component
(section 3.1.2). The organ is free text in the annotation file; these are the
values the Lesions panel offers.
"""

from __future__ import annotations

from typing import Final

from imaging_viewer.core.annotations.anatomic_sites import ANATOMIC_SITES
from imaging_viewer.core.followup.response_table import BONE_ORGANS

RECIST_ORGANS: Final[tuple[str, ...]] = (
    "lung",
    "liver",
    "lymph node",
    "bone",
    "pleura",
    "mediastinum",
    "brain",
    "adrenal gland",
    "kidney",
    "spleen",
    "pancreas",
    "breast",
    "peritoneum",
    "skin",
    "soft tissue",
)
"""Organs offered for a lesion (RECIST 1.1 section 4.2 counts targets per organ;
all lymph nodes together are one organ)."""

_LAST_BONE_SITE: Final = "272673000"
"""SNOMED CT "Bone": the catalogue lists bones and spine levels before it."""
_BONE_SITE_CODES: Final = frozenset(
    site.code
    for site in ANATOMIC_SITES[
        : [s.code for s in ANATOMIC_SITES].index(_LAST_BONE_SITE) + 1
    ]
)
_ORGAN_BY_SITE_MEANING: Final = {
    "lung": "lung",
    "pleura": "pleura",
    "mediastinum": "mediastinum",
    "liver": "liver",
    "kidney": "kidney",
    "adrenal gland": "adrenal gland",
    "spleen": "spleen",
    "pancreas": "pancreas",
    "brain": "brain",
    "breast": "breast",
    "lymph node": "lymph node",
    "soft tissue": "soft tissue",
    "muscle": "soft tissue",
}


def organ_of_site(code: str, meaning: str = "") -> str:
    """The RECIST organ of a coded Finding Site (PS3.16 TID 1501), or ``""``
    where the site is a region that does not decide it (e.g. knee, thigh)."""
    if code in _BONE_SITE_CODES:
        return "bone"
    return _ORGAN_BY_SITE_MEANING.get(meaning.strip().lower(), "")


def is_bone_organ(organ: str) -> bool:
    """Whether a lesion of this organ is a bone lesion (RECIST 1.1 section 3.1.2:
    measurable only with a soft-tissue component)."""
    name = organ.strip().lower()
    return name in BONE_ORGANS or "bone" in name
