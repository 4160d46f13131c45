"""A study opens in the window at its first images while the retrieve goes on,
and its series grows to the whole (issue 14 item 4), against a real Orthanc;
the pixels at the end compared with the source files (pydicom)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pydicom

from imaging_viewer.core.pacs import remote
from imaging_viewer.core.pacs.nodes import parse_node
from imaging_viewer.ui.arriving_studies import ArrivingStudies
from imaging_viewer.ui.dialogs.pacs_dialog import PacsDialog

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from pytestqt.qtbot import QtBot

    from tests.pacs.conftest import Orthanc


def _source_slices(files: list[Path]) -> list[pydicom.Dataset]:
    """The CT's images in order along the slice normal (pydicom)."""
    datasets = [pydicom.dcmread(path) for path in files]
    first = datasets[0]
    normal = np.cross(
        np.array(first.ImageOrientationPatient[:3], float),
        np.array(first.ImageOrientationPatient[3:], float),
    )
    return sorted(
        datasets,
        key=lambda ds: float(np.dot(normal, np.array(ds.ImagePositionPatient, float))),
    )


def test_the_study_opens_while_it_arrives_and_grows_to_the_whole(
    qtbot: QtBot,
    tmp_path: Path,
    orthanc: Orthanc,
    sample_data: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from imaging_viewer.ui.main_window import MainWindow
    from tests.conftest import window_settled

    orthanc.clear()
    files = sorted((sample_data / "CT").iterdir())
    remote.send(parse_node(orthanc.node, configured={}), files)
    study_uid = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)

    stored = ArrivingStudies.stored

    def slowly(self: ArrivingStudies, path: Path) -> None:
        time.sleep(0.12)  # a slow network: about 3.5 s for the 28 images
        stored(self, path)

    monkeypatch.setattr(ArrivingStudies, "stored", slowly)
    window = MainWindow(remember_settings=False)
    qtbot.addWidget(window)
    window.show()
    arriving: list[ArrivingStudies] = []

    def arrivals() -> ArrivingStudies:
        arriving.append(ArrivingStudies.for_window(window))
        return arriving[-1]

    dialog = PacsDialog(
        window.opening.add_study,
        lambda: ("", set()),
        window,
        nodes_file=tmp_path / "nodes.json",
        database_path=tmp_path / "studies.sqlite",
        arrivals=arrivals,
    )
    qtbot.addWidget(dialog)
    dialog.node_name.setText("orthanc")
    dialog.node_address.setText(orthanc.node)
    dialog.save_node()
    dialog.patient_id.setText("*")
    dialog.search()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    dialog.tree.setCurrentItem(dialog.tree.topLevelItem(0))

    dialog.retrieve_selected()
    qtbot.waitUntil(lambda: study_uid in window.workspace.studies, timeout=30_000)
    assert dialog.busy  # open before the retrieve ends
    received = arriving[0].files.received
    assert 0 < received < len(files)
    qtbot.waitUntil(
        lambda: dialog.status.text().startswith("receiving "), timeout=10_000
    )
    viewport = window.state.viewports[0]
    qtbot.waitUntil(lambda: viewport.volume is not None, timeout=30_000)
    assert viewport.series is not None
    assert viewport.series.study_uid == study_uid
    first_slices = viewport.volume.shape_kji[0]  # type: ignore[union-attr]
    assert first_slices < len(files)

    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)
    assert "retrieved and opened" in dialog.status.text(), dialog.status.text()
    qtbot.waitUntil(
        lambda: (
            not arriving[0].active
            and window_settled(window)
            and viewport.volume is not None
            and viewport.volume.shape_kji[0] == len(files)
        ),
        timeout=60_000,
    )
    assert len(window.workspace.studies) == 1
    assert viewport.series.n_instances == len(files)
    volume = viewport.volume
    assert volume is not None
    for k, source in enumerate(_source_slices(files)):
        expected = source.pixel_array * float(source.RescaleSlope) + float(
            source.RescaleIntercept
        )
        np.testing.assert_allclose(volume.voxels[k], expected, atol=1e-3)
    window.close()


def test_the_receiver_follows_arrivals_until_the_whole_study_is_open(
    qtbot: QtBot,
    tmp_path: Path,
    orthanc: Orthanc,
    sample_data: Path,
) -> None:
    from imaging_viewer.core.pacs.receiver import ReceiverSettings
    from imaging_viewer.ui.pacs_receiver import PacsReceiverService
    from tests.pacs.test_receiver import orthanc_post

    orthanc.clear()
    files = sorted((sample_data / "CT").iterdir())[:12]
    remote.send(parse_node(orthanc.node, configured={}), files)
    opened: list[tuple[Path, int]] = []
    service = PacsReceiverService(
        autostart=False,
        settings_path=tmp_path / "receiver.json",
        database_path=tmp_path / "studies.sqlite",
    )
    service.follow_arrivals(
        lambda: ArrivingStudies(
            lambda folder: opened.append((folder, len(list(folder.rglob("*.dcm"))))),
            lambda: True,
        )
    )
    service.apply(
        ReceiverSettings(
            enabled=True, port=orthanc.move_port, accepted_aets=("ORTHANC",)
        )
    )
    try:
        study = orthanc.rest("/studies")[0]  # type: ignore[index]
        orthanc_post(orthanc, "/modalities/viewer/store", {"Resources": [study]})
        qtbot.waitUntil(lambda: bool(opened), timeout=30_000)
        qtbot.waitUntil(lambda: opened[-1][1] == len(files), timeout=30_000)
    finally:
        service.stop()
    assert len({folder for folder, _ in opened}) == 1
