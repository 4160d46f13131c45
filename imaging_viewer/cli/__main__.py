"""python -m imaging_viewer.cli: the same as the imaging-viewer command."""

from imaging_viewer.cli import main

raise SystemExit(main())
