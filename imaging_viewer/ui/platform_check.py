"""A clear word, instead of Qt's abort, when the window system cannot be used.

Qt picks the ``xcb`` platform on an X11 desktop. Since Qt 6.5 its plugin needs
``libxcb-cursor0``, which many desktops lack; Qt then prints a long message and
aborts (``qFatal``), with a core dump. Before the QApplication is made, this
module loads the plugin the way Qt will (``dlopen``) and, when a library is
missing, names it and the Debian package that brings it.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from pathlib import Path

DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}
"""Libraries Qt's xcb platform plugin loads, and their Debian packages (bookworm)."""

_MISSING = re.compile(r"(\S+\.so(?:\.\d+)*): cannot open shared object file")


def missing_library(loader_error: str) -> str | None:
    """The library named by a ``dlopen`` error, e.g. ``libxcb-cursor.so.0``."""
    match = _MISSING.search(loader_error)
    return match.group(1) if match else None


def install_hint(library: str) -> str:
    """The command that installs ``library`` on Debian and Ubuntu."""
    package = DEBIAN_PACKAGES.get(library)
    if package is None:
        return f"install the package that provides {library}"
    return f"sudo apt-get install {package}"


def _uses_xcb(environ: os._Environ[str] | dict[str, str]) -> bool:
    """Whether Qt will start on the xcb platform (Qt 6 chooses wayland first only
    in a Wayland session, and then falls back to xcb itself)."""
    platform = environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(";")[0].split(":")[0] == "xcb"
    wayland = environ.get("XDG_SESSION_TYPE") == "wayland" and bool(
        environ.get("WAYLAND_DISPLAY")
    )
    return sys.platform.startswith("linux") and not wayland


def platform_problem(
    plugin: Path | None = None, environ: dict[str, str] | None = None
) -> str | None:
    """Why the xcb platform cannot start, with the fix; ``None`` if it can (or if
    another platform was chosen, which Qt then reports itself)."""
    env = dict(os.environ) if environ is None else environ
    if not _uses_xcb(env):
        return None
    if not env.get("DISPLAY"):
        return (
            "imaging-viewer: no X display (DISPLAY is not set). Start it from a "
            "desktop session; for --screenshot or --self-test without a display "
            "it uses QT_QPA_PLATFORM=offscreen."
        )
    if plugin is None:
        from PySide6.QtCore import QLibraryInfo

        plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
        plugin = Path(plugins) / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return None  # not this Qt's layout: let Qt look and speak
    try:
        ctypes.CDLL(str(plugin), mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError as error:
        library = missing_library(str(error)) or str(error)
        return (
            f"imaging-viewer: Qt's X11 (xcb) platform cannot load: {library} is "
            f"missing.\nFix: {install_hint(library)}"
        )
    return None
