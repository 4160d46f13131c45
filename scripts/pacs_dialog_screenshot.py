"""Make ``docs/images/pacs_dialog.png``: the query/retrieve window with results
from a local Orthanc holding sample_data's CT and MR (issue 14).

Run under a display (``xvfb-run -a -s "-screen 0 1366x768x24"``) from the
repository: ``python scripts/pacs_dialog_screenshot.py [OUTPUT]``. Orthanc is
started as the tests start it (``tests/pacs/conftest.py``) and stopped after.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from PySide6.QtWidgets import QApplication  # noqa: E402

from imaging_viewer.core.pacs import remote  # noqa: E402
from imaging_viewer.core.pacs.nodes import parse_node  # noqa: E402
from imaging_viewer.ui.app import apply_dark_theme  # noqa: E402
from imaging_viewer.ui.dialogs.pacs_dialog import PacsDialog  # noqa: E402
from imaging_viewer.ui.pacs_receiver import PacsReceiverService  # noqa: E402
from tests.pacs.conftest import start_orthanc, stop_orthanc  # noqa: E402


def _wait(application: QApplication, dialog: PacsDialog) -> None:
    deadline = time.monotonic() + 30
    while dialog.busy and time.monotonic() < deadline:
        application.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        application.processEvents()


def main(output: Path) -> int:
    """Store the samples, search, expand the first study, save the picture."""
    application = QApplication([])
    apply_dark_theme(application)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "orthanc").mkdir()
        orthanc = start_orthanc(folder / "orthanc")
        try:
            node = parse_node(orthanc.node, configured={})
            for series in ("CT", "MR"):
                remote.send(
                    node, sorted((REPOSITORY / "sample_data" / series).iterdir())
                )
            receiver = PacsReceiverService(
                autostart=False,
                settings_path=folder / "receiver.json",
                database_path=folder / "studies.sqlite",
            )
            dialog = PacsDialog(
                lambda _: None,
                lambda: ("", set()),
                nodes_file=folder / "nodes.json",
                database_path=folder / "studies.sqlite",
                receiver=receiver,
            )
            dialog.resize(1100, 700)
            dialog.node_name.setText("Orthanc")
            dialog.node_address.setText(orthanc.node)
            dialog.save_node()
            dialog.show()
            dialog.search()
            _wait(application, dialog)
            first = dialog.tree.topLevelItem(0)
            first.setExpanded(True)
            _wait(application, dialog)
            dialog.tree.setCurrentItem(first.child(0) or first)
            for column in range(dialog.tree.columnCount()):
                dialog.tree.resizeColumnToContents(column)
            _wait(application, dialog)
            dialog.grab().save(str(output))
            dialog.close()
        finally:
            stop_orthanc(orthanc)
    print(f"saved {output}")
    return 0


if __name__ == "__main__":
    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else REPOSITORY / "docs/images/pacs_dialog.png"
    )
    sys.exit(main(target))
