"""What the annotations of a teaching case measure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imaging_viewer.core.annotations.measure import Measurement, measure_shown

if TYPE_CHECKING:
    from collections.abc import Mapping

    from imaging_viewer.core.annotations.measure import RoiStats
    from imaging_viewer.core.annotations.model import AnnotationSet

__all__ = ["measure_annotations", "with_roi_stats"]


def measure_annotations(
    annotation_set: AnnotationSet,
    spacing_sources: Mapping[str, str] | None = None,
) -> dict[str, tuple[Measurement, ...]]:
    """What each annotation measures, by annotation id.

    Parameters
    ----------
    annotation_set : AnnotationSet
        The lesions and their annotations.
    spacing_sources : mapping of str to str, optional
        ``Volume.spacing_source`` (via ``measure.spacing_source_of``) of the
        image each annotation lies on, by annotation id; ``""`` where not given.

    Returns
    -------
    dict of str to tuple of Measurement
        Lengths and areas on an image the reader calibrated are in mm from
        that calibration; on an image without spacing, in px and px2
        (:func:`~imaging_viewer.core.annotations.measure.measure_shown`).
    """
    sources = spacing_sources or {}
    result: dict[str, tuple[Measurement, ...]] = {}
    for annotation in annotation_set.annotations():
        source = sources.get(annotation.id, "")
        calibration = annotation_set.calibration(
            annotation.referenced_sop_instance_uid, annotation.referenced_frame
        )
        result[annotation.id] = measure_shown(
            annotation, spacing_source=source, calibration=calibration
        )
    return result


def with_roi_stats(
    measurements: Mapping[str, tuple[Measurement, ...]],
    stats: Mapping[str, RoiStats],
    modalities: Mapping[str, str],
) -> dict[str, tuple[Measurement, ...]]:
    """``measurements`` with the mean, SD, min and max of each ROI added.

    Parameters
    ----------
    measurements : mapping of str to tuple of Measurement
        By annotation id (:func:`measure_annotations`).
    stats : mapping of str to RoiStats
        By annotation id; ROIs with no pixel inside add nothing.
    modalities : mapping of str to str
        Modality of each annotation's image: CT values are in HU.
    """
    result = dict(measurements)
    for annotation_id, values in stats.items():
        if not values.pixel_count:
            continue
        unit = "HU" if modalities.get(annotation_id) == "CT" else ""
        extra = tuple(
            Measurement(name, value, unit, values.spacing_source)
            for name, value in (
                ("mean", values.mean),
                ("SD", values.sd),
                ("min", values.min),
                ("max", values.max),
            )
        )
        result[annotation_id] = result.get(annotation_id, ()) + extra
    return result
