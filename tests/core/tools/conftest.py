"""Fixtures of the tool tests: a plane, and an annotation set with one lesion."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from imaging_viewer.core.annotations.model import AnnotationSet, Lesion
from tests.core.tools.fake_pointer import axial_plane

if TYPE_CHECKING:
    from imaging_viewer.core.mpr import SlicePlane


@pytest.fixture
def plane() -> SlicePlane:
    return axial_plane()


@pytest.fixture
def annotations() -> AnnotationSet:
    """A set with one lesion, "Lesion 1", and no history."""
    return AnnotationSet([Lesion(id="lesion-1", label="Lesion 1")])
