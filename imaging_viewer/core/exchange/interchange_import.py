"""Annotations read from interchange objects: a TID 1500 measurement report or a
Grayscale Softcopy Presentation State, told apart by SOP Class UID (PS3.4 B.5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from imaging_viewer.core.dicom.series import SeriesInfo
    from imaging_viewer.core.exchange.structured_report import DicomImport


class InterchangeImportError(ValueError):
    """The file is not an SR or presentation state this viewer can read."""


def read_interchange_annotations(
    path: str | os.PathLike[str], series: Sequence[SeriesInfo]
) -> DicomImport:
    """The lesions of the SR or GSPS at ``path``, placed on ``series``.

    Raises
    ------
    InterchangeImportError
        With a message naming the file and the problem.
    """
    import pydicom
    import pydicom.errors

    from imaging_viewer.core.exchange.presentation_state import presentation_state_onto
    from imaging_viewer.core.exchange.structured_report import (
        import_measurement_report,
    )

    try:
        dataset = pydicom.dcmread(path)
    except (OSError, pydicom.errors.InvalidDicomError) as error:
        raise InterchangeImportError(
            f"{path}: not a readable DICOM file ({error})"
        ) from error
    sop_class = str(dataset.get("SOPClassUID", ""))
    try:
        if sop_class == pydicom.uid.GrayscaleSoftcopyPresentationStateStorage:
            return presentation_state_onto(dataset, series)
        return import_measurement_report(dataset)
    except ValueError as error:
        raise InterchangeImportError(f"{path}: {error}") from error
