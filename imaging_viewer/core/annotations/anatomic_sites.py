"""Anatomic sites a lesion is coded with: SNOMED CT codes of the DICOM content
mapping resource (PS3.16, e.g. CID 4 Anatomic Region), written as the Finding Site
of TID 1501 with its Laterality (CID 244) as modifier.

The codes are those of ``pydicom.sr.codes.SCT`` (DICOM's own table), kept here as
plain data so the annotation model needs no DICOM library; the tests check each
against pydicom.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

    from imaging_viewer.core.annotations.model import Lesion

SNOMED_CT: Final = "SCT"
"""Coding Scheme Designator of SNOMED CT in DICOM (PS3.16 8)."""


@dataclass(frozen=True)
class AnatomicSite:
    """One coded anatomic location (PS3.16 TID 1501 row 11, Finding Site)."""

    code: str
    """SNOMED CT code value, e.g. ``"71341001"``."""
    meaning: str
    """DICOM's code meaning, e.g. ``"Femur"``."""


ANATOMIC_SITES: Final[tuple[AnatomicSite, ...]] = (
    AnatomicSite("71341001", "Femur"),
    AnatomicSite("12611008", "Tibia"),
    AnatomicSite("87342007", "Fibula"),
    AnatomicSite("64234005", "Patella"),
    AnatomicSite("85050009", "Humerus"),
    AnatomicSite("131190003", "Radius"),
    AnatomicSite("23416004", "Ulna"),
    AnatomicSite("79601000", "Scapula"),
    AnatomicSite("51299004", "Clavicle"),
    AnatomicSite("816092008", "Pelvis"),
    AnatomicSite("22356005", "Ilium"),
    AnatomicSite("85710004", "Ischium"),
    AnatomicSite("37783008", "Acetabulum"),
    AnatomicSite("54735007", "Sacrum"),
    AnatomicSite("64688005", "Coccyx"),
    AnatomicSite("89546000", "Skull"),
    AnatomicSite("91609006", "Mandible"),
    AnatomicSite("113197003", "Rib"),
    AnatomicSite("56873002", "Sternum"),
    AnatomicSite("421060004", "Spine"),
    AnatomicSite("122494005", "Cervical spine"),
    AnatomicSite("122495006", "Thoracic spine"),
    AnatomicSite("122496007", "Lumbar spine"),
    AnatomicSite("14806007", "C1 vertebra"),
    AnatomicSite("39976000", "C2 vertebra"),
    AnatomicSite("113205007", "C3 vertebra"),
    AnatomicSite("5329002", "C4 vertebra"),
    AnatomicSite("36978003", "C5 vertebra"),
    AnatomicSite("36054005", "C6 vertebra"),
    AnatomicSite("87391001", "C7 vertebra"),
    AnatomicSite("64864005", "T1 vertebra"),
    AnatomicSite("53733008", "T2 vertebra"),
    AnatomicSite("1626008", "T3 vertebra"),
    AnatomicSite("73071006", "T4 vertebra"),
    AnatomicSite("56401006", "T5 vertebra"),
    AnatomicSite("45296009", "T6 vertebra"),
    AnatomicSite("62487009", "T7 vertebra"),
    AnatomicSite("11068009", "T8 vertebra"),
    AnatomicSite("82687006", "T9 vertebra"),
    AnatomicSite("7610001", "T10 vertebra"),
    AnatomicSite("12989004", "T11 vertebra"),
    AnatomicSite("23215003", "T12 vertebra"),
    AnatomicSite("66794005", "L1 vertebra"),
    AnatomicSite("14293000", "L2 vertebra"),
    AnatomicSite("36470004", "L3 vertebra"),
    AnatomicSite("11994002", "L4 vertebra"),
    AnatomicSite("49668003", "L5 vertebra"),
    AnatomicSite("272673000", "Bone"),
    AnatomicSite("39607008", "Lung"),
    AnatomicSite("3120008", "Pleura"),
    AnatomicSite("72410000", "Mediastinum"),
    AnatomicSite("10200004", "Liver"),
    AnatomicSite("64033007", "Kidney"),
    AnatomicSite("23451007", "Adrenal gland"),
    AnatomicSite("78961009", "Spleen"),
    AnatomicSite("15776009", "Pancreas"),
    AnatomicSite("12738006", "Brain"),
    AnatomicSite("76752008", "Breast"),
    AnatomicSite("59441001", "Lymph Node"),
    AnatomicSite("87784001", "Soft tissue"),
    AnatomicSite("71616004", "Muscle"),
    AnatomicSite("72696002", "Knee"),
    AnatomicSite("29836001", "Hip"),
    AnatomicSite("16982005", "Shoulder"),
    AnatomicSite("68367000", "Thigh"),
    AnatomicSite("30021000", "Lower leg"),
    AnatomicSite("40983000", "Upper arm"),
    AnatomicSite("14975008", "Forearm"),
    AnatomicSite("85562004", "Hand"),
    AnatomicSite("56459004", "Foot"),
)
"""The sites offered in the Lesions panel, bones first (musculoskeletal
oncology), then spine levels, then organs and regions."""

LATERALITIES: Final[dict[str, tuple[str, str]]] = {
    "left": ("7771000", "Left"),
    "right": ("24028007", "Right"),
    "bilateral": ("51440002", "Bilateral"),
}
"""Laterality (272741003, SCT) values (PS3.16 CID 244): name → (code, meaning)."""

LATERALITY_MODIFIER: Final = ("272741003", "Laterality")

_BY_CODE: Final = {site.code: site for site in ANATOMIC_SITES}


def site_by_code(code: str) -> AnatomicSite | None:
    """The catalogued site with this SNOMED CT code, or ``None``."""
    return _BY_CODE.get(code)


def laterality_by_code(code: str) -> str:
    """``"left"``, ``"right"``, ``"bilateral"`` for a CID 244 code, else ``""``."""
    return next((n for n, (c, _) in LATERALITIES.items() if c == code), "")


def describe_site(code: str, meaning: str, laterality: str) -> str:
    """Human-readable coded site, e.g. ``"Left Femur"``."""
    if not code:
        return ""
    side = LATERALITIES[laterality][1] + " " if laterality in LATERALITIES else ""
    return f"{side}{meaning}"


def coded_site_record(lesion: Lesion) -> dict[str, str]:
    """The coded site's keys of a JSON record, only those that are set."""
    record: dict[str, str] = {}
    if lesion.site_code:
        record["site_code"] = lesion.site_code
        record["site_meaning"] = lesion.site_meaning
    if lesion.laterality:
        record["laterality"] = lesion.laterality
    return record


def coded_site_from_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """``site_code``, ``site_meaning``, ``laterality`` from a JSON record another
    program may have written: a half-coded site or an unknown laterality is
    dropped rather than refused."""
    code = str(record.get("site_code") or "")
    meaning = str(record.get("site_meaning") or "")
    laterality = str(record.get("laterality") or "")
    if not (code and meaning):
        code = meaning = ""
    return {
        "site_code": code,
        "site_meaning": meaning,
        "laterality": laterality if laterality in LATERALITIES else "",
    }
