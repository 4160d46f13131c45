"""Dockable panels: series browser, problems panel, DICOM tag browser."""
