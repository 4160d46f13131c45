"""One entry for both protocols: echo, find, retrieve, send on any :data:`Node`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.core.pacs import dicomweb, dimse
from imaging_viewer.core.pacs.nodes import DimseNode

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from imaging_viewer.core.pacs.dimse import RetrieveResult, SendOutcome
    from imaging_viewer.core.pacs.nodes import Node
    from imaging_viewer.core.pacs.query import Query, QueryResult
    from imaging_viewer.core.pacs.sink import InstanceSink

__all__ = ["echo", "find", "retrieve", "send"]


def echo(node: Node) -> None:
    """C-ECHO, or a QIDO-RS request: "test connection"."""
    if isinstance(node, DimseNode):
        dimse.echo(node)
    else:
        dicomweb.echo(node)


def find(node: Node, query: Query) -> tuple[list[QueryResult], bool]:
    """C-FIND or QIDO-RS: the results and whether there are more."""
    if isinstance(node, DimseNode):
        return dimse.find(node, query)
    return dicomweb.find(node, query)


def retrieve(
    node: Node,
    study_uid: str,
    sink: InstanceSink,
    *,
    series_uid: str = "",
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> RetrieveResult:
    """C-GET, C-MOVE (``node.move_port``) or WADO-RS into ``sink``."""
    if isinstance(node, DimseNode):
        return dimse.retrieve(
            node,
            study_uid,
            sink,
            series_uid=series_uid,
            progress=progress,
            cancelled=cancelled,
        )
    return dicomweb.retrieve(
        node,
        study_uid,
        sink,
        series_uid=series_uid,
        progress=progress,
        cancelled=cancelled,
    )


def send(
    node: Node,
    paths: Iterable[Path],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[SendOutcome]:
    """C-STORE or STOW-RS of the files; one outcome per instance."""
    if isinstance(node, DimseNode):
        return dimse.send(node, paths, progress=progress)
    return dicomweb.send(node, paths, progress=progress)
