"""The workspace and a PACS: send a study's SR and presentation state, or a
de-identified teaching case; retrieve the priors of the open patient and open
them beside the studies already open."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.errors import PacsError
from imaging_viewer.core.pacs.query import Query
from imaging_viewer.core.pacs.sink import InstanceSink

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from imaging_viewer.core.pacs.database import StudyDatabase
    from imaging_viewer.core.pacs.dimse import SendOutcome
    from imaging_viewer.core.pacs.nodes import Node
    from imaging_viewer.core.pacs.query import QueryResult
    from imaging_viewer.core.teaching.burn_in import KeyImageBurnIn
    from imaging_viewer.core.teaching.case import TeachingCase
    from imaging_viewer.core.workspace.workspace import Workspace

__all__ = [
    "PriorsRetrieved",
    "retrieve_priors",
    "send_annotation_documents",
    "send_teaching_case",
]


def _dicom_files(files: Iterable[Path]) -> list[Path]:
    return [path for path in files if path.suffix == ".dcm"]


def send_annotation_documents(
    workspace: Workspace,
    study_uid: str,
    node: Node,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[SendOutcome]:
    """C-STORE or STOW-RS the study's lesions as a TID 1500 SR and a GSPS
    (PS3.3 A.35.13, A.33.1), not de-identified: the PACS keeps the images they
    reference. One outcome per instance.

    Raises DicomExportError when there is nothing to write, PacsError when the
    node refuses.
    """
    with tempfile.TemporaryDirectory(prefix="imaging-viewer-send.") as scratch:
        written, _ = workspace.export_annotation_documents(
            study_uid, Path(scratch) / "documents"
        )
        documents = [
            path
            for path in (written.structured_report, written.presentation_state)
            if path is not None
        ]
        return remote.send(node, documents, progress=progress)


def send_teaching_case(
    workspace: Workspace,
    study_uid: str,
    node: Node,
    case: TeachingCase,
    burn_in: KeyImageBurnIn,
    *,
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> list[SendOutcome]:
    """C-STORE or STOW-RS a de-identified teaching case (PS3.15 Annex E): its
    de-identified key images, SR and GSPS; the case sheet and pictures stay
    local. ``options`` go to :meth:`Workspace.export_teaching_case`.

    Raises TeachingExportError when the case cannot be made safely, PacsError
    when the node refuses.
    """
    with tempfile.TemporaryDirectory(prefix="imaging-viewer-send.") as scratch:
        export = workspace.export_teaching_case(
            study_uid, case, Path(scratch) / "case", burn_in, **options
        )
        return remote.send(node, _dicom_files(export.files), progress=progress)


@dataclass
class PriorsRetrieved:
    """What :func:`retrieve_priors` found and fetched."""

    patient_id: str
    found: list[QueryResult] = field(default_factory=list)
    """The patient's studies on the node that were not open."""
    retrieved: list[str] = field(default_factory=list)
    """Study Instance UIDs retrieved and opened."""
    failures: list[str] = field(default_factory=list)
    """One line per study that could not be retrieved."""


def retrieve_priors(
    workspace: Workspace,
    node: Node,
    into: StudyDatabase | Path,
    *,
    patient_id: str = "",
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PriorsRetrieved:
    """Find the open patient's other studies on ``node`` (C-FIND / QIDO-RS on
    Patient ID, PS3.4 C.6.2), retrieve each into the database, or into a folder
    per study under the folder ``into``, and open it beside the studies already
    open (``Workspace.open(..., replace=False)``).

    The patient is ``patient_id``, else that of the first study open. A study
    that fails is reported in ``failures`` and the others still come; a
    cancellation stops the whole (PacsError).
    """
    if not patient_id:
        patients = [pid for pid, _ in workspace.patients if pid]
        if not patients:
            raise PacsError("no patient is open (or the open study has no ID)")
        patient_id = patients[0]
    found, _ = remote.find(node, Query(level="study", patient_id=patient_id))
    result = PriorsRetrieved(patient_id)
    result.found = [s for s in found if s.study_uid not in workspace.studies]
    for study in result.found:
        sink = (
            InstanceSink(folder=into / study.study_uid)
            if isinstance(into, Path)
            else InstanceSink(database=into)
        )
        try:
            remote.retrieve(
                node, study.study_uid, sink, progress=progress, cancelled=cancelled
            )
        except PacsError as error:
            if cancelled is not None and cancelled():
                raise
            result.failures.append(f"{study.study_uid}: {error}")
            if not sink.received:
                continue
        folders = sorted({path.parent for path in sink.received})
        for folder in folders:
            workspace.open(folder, replace=False)
        result.retrieved.append(study.study_uid)
    return result
