"""Whether two studies are of the same patient: Patient ID and Patient's Name.

A viewer that puts studies side by side must never link or compare those of
two patients silently. The Patient ID (0010,0020) and Patient's Name
(0010,0010) both decide (PS3.3 C.7.1.1, Patient Module); the name is compared
as a Person Name (PS3.5 6.2.1): its alphabetic group, components trimmed,
case and empty trailing components ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

PatientKey = tuple[str, str]
"""(Patient ID, Patient's Name) as the files give them."""


def normalised_name(name: str) -> str:
    """``Doe^John^^^`` and ``DOE^JOHN`` alike: the alphabetic group's components
    trimmed and upper-cased, empty trailing components dropped (PS3.5 6.2.1)."""
    components = [c.strip().upper() for c in name.split("=")[0].split("^")]
    while components and not components[-1]:
        components.pop()
    return "^".join(components)


def same_patient(a: PatientKey, b: PatientKey) -> bool:
    """True when both the Patient IDs and the Patient's Names agree."""
    return a[0].strip() == b[0].strip() and normalised_name(a[1]) == normalised_name(
        b[1]
    )


def other_patients(
    open_patients: Sequence[PatientKey], new_patients: Iterable[PatientKey]
) -> list[PatientKey]:
    """The patients of ``new_patients`` that are none of ``open_patients``
    (each once, in order); empty when nothing is open."""
    if not open_patients:
        return []
    others: list[PatientKey] = []
    for key in new_patients:
        if any(same_patient(key, known) for known in open_patients):
            continue
        if not any(same_patient(key, other) for other in others):
            others.append(key)
    return others


def describe_patient(key: PatientKey) -> str:
    """``DOE, JOHN (ID 123)`` for a message."""
    family, given = [*(p.strip() for p in key[1].split("=")[0].split("^")), ""][:2]
    name = f"{family}, {given}" if family and given else family or given
    name = name or "(no name)"
    return f"{name} (ID {key[0].strip()})" if key[0].strip() else f"{name} (no ID)"
