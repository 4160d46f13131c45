"""imaging_viewer: a desktop viewer for medical images."""

import os

__version__ = "0.1.0"

# numpy's OpenBLAS starts a thread per core that spins after each call. The
# viewer's linear algebra is 4×4 geometry, so the threads only take cores from
# decoding, rendering and start-up (about 0.1 s of CPU before the first image).
# Set before numpy is imported; a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
