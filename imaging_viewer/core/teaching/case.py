"""The text of a teaching case, as its author writes it.

The fields follow teaching file systems such as RSNA's: title, history,
findings, diagnosis, discussion and references, plus modality, anatomy and
keywords.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TeachingCase"]


@dataclass(frozen=True)
class TeachingCase:
    """The text of a teaching case, as the author writes it.

    Nothing here is taken from the images: these fields are exported as given,
    so they must not name the patient.
    """

    title: str = ""
    history: str = ""
    findings: str = ""
    diagnosis: str = ""
    discussion: str = ""
    references: tuple[str, ...] = ()
    modality: str = ""
    anatomy: str = ""
    keywords: tuple[str, ...] = ()
