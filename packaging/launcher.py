"""Entry point of the frozen app: the same ``main`` as the ``imaging-viewer`` script."""

from imaging_viewer.cli import main

raise SystemExit(main())
