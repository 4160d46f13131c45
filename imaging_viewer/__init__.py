"""imaging_viewer: a desktop viewer for medical images."""

__version__ = "0.1.0"
