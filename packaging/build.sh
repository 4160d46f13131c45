#!/usr/bin/env bash
# Freeze imaging-viewer with PyInstaller and package it: packaging/build.sh [OUTDIR]
#
# Writes to OUTDIR (default: dist/ in the clone):
#   imaging-viewer/                              the one-folder bundle (run imaging-viewer/imaging-viewer)
#   imaging-viewer-<version>-linux-x86_64.tar.gz that folder, packed
#   imaging-viewer_<version>_amd64.deb           /opt/imaging-viewer + /usr/bin launcher,
#                                                desktop entry, icons, MIME type, metainfo
# and prints their sizes. Needs the packaging extra (scripts/bootstrap.sh installs
# it: pyinstaller, pyinstaller-hooks-contrib) and dpkg-deb.
#
# Environment:
#   PYTHON   interpreter with imaging_viewer and PyInstaller (default: .venv/bin/python)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(mkdir -p "${1:-$ROOT/dist}" && cd "${1:-$ROOT/dist}" && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
RES="$ROOT/imaging_viewer/resources"
APP_ID=org.imagingviewer.ImagingViewer

log() { printf '[build] %s\n' "$*" >&2; }

VERSION="$("$PYTHON" -c 'import imaging_viewer; print(imaging_viewer.__version__)')"
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
log "imaging-viewer $VERSION: freezing with $("$PYTHON" -m PyInstaller --version 2>/dev/null || echo '?')"

rm -rf "$OUT/imaging-viewer"
"$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$OUT" --workpath "$ROOT/build/pyinstaller" \
    "$ROOT/packaging/imaging-viewer.spec"
BUNDLE="$OUT/imaging-viewer"

# Data PyInstaller's hooks collect that the app never reads: Qt's translations
# (the UI is English), and QML/Quick/PDF/virtual-keyboard plugins of other modules.
QT="$BUNDLE/_internal/PySide6/Qt"
rm -rf "$QT/translations" "$QT/qml" \
    "$QT/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so" \
    "$QT/plugins/imageformats/libqpdf.so" "$QT/plugins/networkinformation" \
    "$QT/plugins/tls" "$QT/plugins/designer" "$QT/plugins/qmltooling"

log "self-test of the bundle"
QT_QPA_PLATFORM=offscreen "$BUNDLE/imaging-viewer" --self-test

log "packing $(basename "$BUNDLE").tar.gz"
TARBALL="$OUT/imaging-viewer-$VERSION-linux-x86_64.tar.gz"
tar -C "$OUT" -czf "$TARBALL" imaging-viewer

log "packing the .deb"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
install -d "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" \
    "$STAGE/usr/share/applications" "$STAGE/usr/share/metainfo" \
    "$STAGE/usr/share/mime/packages" "$STAGE/usr/share/doc/imaging-viewer"
cp -a "$BUNDLE" "$STAGE/opt/imaging-viewer"
cat >"$STAGE/usr/bin/imaging-viewer" <<'LAUNCHER'
#!/bin/sh
exec /opt/imaging-viewer/imaging-viewer "$@"
LAUNCHER
chmod 755 "$STAGE/usr/bin/imaging-viewer"
install -m 644 "$RES/$APP_ID.desktop" "$STAGE/usr/share/applications/"
install -m 644 "$RES/$APP_ID.metainfo.xml" "$STAGE/usr/share/metainfo/"
install -m 644 "$RES/imaging-viewer-mime.xml" "$STAGE/usr/share/mime/packages/imaging-viewer.xml"
install -d "$STAGE/usr/share/icons"
cp -r "$RES/hicolor" "$STAGE/usr/share/icons/hicolor"
{
    echo "imaging-viewer $VERSION: BSD-3-Clause (the app);"
    echo "bundled third-party licences: /opt/imaging-viewer/_internal/imaging_viewer/resources/LICENSES/"
    echo "and the *.dist-info/ folders under /opt/imaging-viewer/_internal/."
} >"$STAGE/usr/share/doc/imaging-viewer/copyright"
find "$STAGE/usr" -type d -exec chmod 755 {} +
find "$STAGE/usr/share" -type f -exec chmod 644 {} +
INSTALLED_KB="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
cat >"$STAGE/DEBIAN/control" <<CONTROL
Package: imaging-viewer
Version: $VERSION
Architecture: $ARCH
Maintainer: imaging_viewer developers <imaging-viewer@users.noreply.invalid>
Installed-Size: $INSTALLED_KB
Section: graphics
Priority: optional
Depends: libc6 (>= 2.31), libgl1, libegl1, libopengl0, libglib2.0-0, libfontconfig1, libfreetype6, libdbus-1-3, libx11-6, libx11-xcb1, libxkbcommon0, libxkbcommon-x11-0, libxcb1, libxcb-cursor0, libxcb-glx0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render0, libxcb-render-util0, libxcb-shape0, libxcb-shm0, libxcb-sync1, libxcb-util1, libxcb-xfixes0, libxcb-xkb1, fonts-dejavu-core | fonts-dejavu
Recommends: shared-mime-info, desktop-file-utils
Description: desktop viewer for medical images (DICOM X-ray, CT and MRI)
 Opens a folder, a file or a DICOMDIR, sorts the images into series and shows
 them with window/level, zoom, multiplanar reconstruction and measurements.
 Every common transfer syntax (JPEG, JPEG-LS, JPEG 2000, RLE) is decoded.
 Self-contained: Python, Qt and the decoders are bundled in /opt/imaging-viewer.
CONTROL
DEB="$OUT/imaging-viewer_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null

size() { du -sh "$1" | cut -f1; }
log "bundle folder: $(size "$BUNDLE")  $BUNDLE"
log "tar.gz:        $(size "$TARBALL")  $TARBALL"
log ".deb:          $(size "$DEB")  $DEB"
