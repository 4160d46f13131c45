#!/usr/bin/env bash
# Install what imaging_viewer needs on Debian (system libraries, .venv, the package),
# then run the viewer or the tests.
#
#   scripts/bootstrap.sh install          install only
#   scripts/bootstrap.sh run [ARGS]       install, then .venv/bin/imaging-viewer ARGS
#   scripts/bootstrap.sh test [ARGS]      install, then pytest ARGS (QT_QPA_PLATFORM=offscreen)
#
# Every step checks before it acts, so a second run takes about a second:
# apt-get runs only when a package is missing (dpkg-query), .venv is created only
# when absent, and pip runs only when pyproject.toml changed since the last install.
#
# Environment:
#   PYTHON                        interpreter for a new .venv (default: python3; needs 3.11+)
#   IMAGING_VIEWER_SKIP_APT=1     do not check or install Debian packages
#   IMAGING_VIEWER_FORCE_PIP=1    reinstall the package even if the stamp is current
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.imaging-viewer-install-stamp"
PYTHON="${PYTHON:-python3}"

# Debian (bookworm) packages. Each line says why it is here.
APT_PACKAGES=(
    # Qt's own libraries: `ldd` on PySide6 6.11.3's libQt6Core/Gui/Widgets/OpenGL and
    # on a fresh Debian 12 minbase these are missing, so even `import PySide6.QtGui`
    # fails (libGL.so.1) before any platform plugin is chosen
    libgl1 libegl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3
    libxkbcommon0 libx11-6
    # the xcb platform plugin (libqxcb.so -> libQt6XcbQpa.so.6) and its GLX integration;
    # xcb-cursor0, icccm4 and keysyms1 are the ones a desktop image may still lack
    libx11-xcb1 libxkbcommon-x11-0 libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4
    libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0
    libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1
    # fonts: Qt ships none; without one, text (labels, burned-in annotations) is
    # silently drawn as nothing
    fontconfig fonts-dejavu-core
    # a virtual X server for screenshots of the real window (xvfb-run needs xauth)
    xvfb xauth
    # reference tools for benchmarks and tests: dcm2niix (conversion), dciodvfy (validation)
    dcm2niix dicom3tools
    # dcmtk: the presentation-state checker (dcmpschk), dsrdump and dcmdump that
    # tests/interop runs on the SR and GSPS we write (issue 16)
    dcmtk
    # packaging/ checks (tests/packaging): the desktop entry and the AppStream metainfo
    # validators, and dpkg-deb/dpkg -x for the .deb (binutils: PyInstaller strips with it)
    desktop-file-utils appstream dpkg binutils
    # OCR (through pytesseract) that finds patient text burned into ultrasound and
    # secondary-capture pixels, to black it out before a de-identified teaching
    # export; without it such images are refused
    tesseract-ocr
    # the real PACS of tests/pacs (started on loopback by a fixture) with its
    # DICOMweb plugin (QIDO/WADO/STOW), and dcmtk's getscu, the peer that
    # benchmarks/bench_pacs.py measures our C-GET against
    orthanc orthanc-dicomweb
    # node runs OHIF's own SR libraries (dcmjs, @cornerstonejs/adapters) in
    # tests/interop (issue 16); npm (below, where node does not bring it)
    # installs them from tests/interop/package.json
    nodejs
)

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root or sudo to run: $*"
    fi
}

python_ok() {
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

is_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == "installed" ]]
}

install_system_packages() {
    if [[ "${IMAGING_VIEWER_SKIP_APT:-0}" == "1" ]]; then
        log "IMAGING_VIEWER_SKIP_APT=1: not checking Debian packages"
        return
    fi
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        log "warning: not a Debian-like system; install Qt's xcb libraries yourself"
        return
    fi
    local wanted=("${APT_PACKAGES[@]}")
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        wanted+=(python3)
    fi
    # Debian's nodejs comes without npm (NodeSource's brings it).
    if ! command -v npm >/dev/null 2>&1; then
        wanted+=(npm)
    fi
    # Debian splits venv/ensurepip out of python3.
    if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        wanted+=(python3-venv)
    fi
    local missing=() pkg
    for pkg in "${wanted[@]}"; do
        is_installed "$pkg" || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        return
    fi
    log "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

create_venv() {
    if [[ -x "$VENV/bin/python" ]] && python_ok "$VENV/bin/python"; then
        return
    fi
    command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found"
    python_ok "$PYTHON" || die "$PYTHON is $("$PYTHON" -V 2>&1); imaging_viewer needs 3.11+"
    log "creating $VENV with $("$PYTHON" -V 2>&1)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
}

install_package() {
    # The stamp names what the last install was made from: this checkout, this
    # interpreter and these dependencies. Any change means pip runs again.
    local want
    want="$(
        {
            printf '%s\n' "$ROOT"
            "$VENV/bin/python" -VV
            cat "$ROOT/pyproject.toml"
        } | sha256sum | cut -d' ' -f1
    )"
    if [[ "${IMAGING_VIEWER_FORCE_PIP:-0}" != "1" && -x "$VENV/bin/imaging-viewer" \
        && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
        return
    fi
    log "pip install -e '.[dev,packaging]'"
    rm -f "$STAMP"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "${ROOT}[dev,packaging]"
    printf '%s\n' "$want" >"$STAMP"
}

install_node_packages() {
    # tests/interop/package.json pins exact versions; no lock file is kept (it
    # would record download addresses). npm runs only when package.json changed.
    local folder="$ROOT/tests/interop" stamp want
    stamp="$folder/node_modules/.imaging-viewer-stamp"
    if ! command -v npm >/dev/null 2>&1; then
        log "warning: npm not found; the OHIF interoperability tests will skip"
        return
    fi
    want="$(sha256sum "$folder/package.json" | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return
    fi
    log "npm install in tests/interop"
    (cd "$folder" && npm install --no-package-lock --no-audit --no-fund \
        --ignore-scripts --loglevel=error)
    printf '%s\n' "$want" >"$stamp"
}

install_all() {
    install_system_packages
    create_venv
    install_package
    install_node_packages
}

default_run_args() {
    # `run` with no arguments opens the bundled sample study in the viewer window.
    printf '%s\n' "$ROOT/sample_data"
}

usage() {
    sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
    local cmd="${1:-install}"
    if [[ $# -gt 0 ]]; then
        shift
    fi
    case "$cmd" in
        install)
            install_all
            log "ready: $VENV"
            ;;
        run)
            install_all
            if [[ $# -eq 0 ]]; then
                mapfile -t args < <(default_run_args)
                set -- "${args[@]}"
            fi
            exec "$VENV/bin/imaging-viewer" "$@"
            ;;
        test)
            install_all
            cd "$ROOT"
            export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
            exec "$VENV/bin/python" -m pytest "$@"
            ;;
        -h | --help | help)
            usage
            ;;
        *)
            usage >&2
            exit 2
            ;;
    esac
}

main "$@"
