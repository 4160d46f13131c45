"""Passwords and tokens of DICOMweb nodes: in the platform keyring (the optional
``keyring`` library, when installed with a usable backend), never in the nodes
file; without a keyring nothing secret is kept and it is asked when used."""

from __future__ import annotations

import importlib
from typing import Any, Final

__all__ = ["forget_secret", "keyring_available", "load_secret", "save_secret"]

SERVICE: Final = "imaging-viewer PACS"


def _keyring() -> Any | None:
    """The keyring module when it has a usable backend, else None (not
    installed, or only its "fail" or "null" backends, as on a headless Linux)."""
    try:
        module = importlib.import_module("keyring")
        backend = module.get_keyring()
    except Exception:
        return None
    priority = getattr(backend, "priority", 0)
    name = type(backend).__module__ + "." + type(backend).__name__
    if "fail" in name.lower() or "null" in name.lower():
        return None
    try:
        if float(priority) <= 0:
            return None
    except (TypeError, ValueError):
        return None
    return module


def keyring_available() -> bool:
    """True when secrets can be kept in the platform keyring."""
    return _keyring() is not None


def _account(node_name: str, kind: str) -> str:
    return f"{node_name}:{kind}"


def save_secret(node_name: str, kind: str, value: str) -> bool:
    """Keep ``value`` (``kind`` "password" or "token") for the node; False when
    there is no keyring (or it refused): then nothing was kept."""
    module = _keyring()
    if module is None:
        return False
    try:
        if value:
            module.set_password(SERVICE, _account(node_name, kind), value)
        else:
            forget_secret(node_name, kind)
    except Exception:
        return False
    return True


def load_secret(node_name: str, kind: str) -> str:
    """The kept secret, or "" (none kept, no keyring, or it refused)."""
    module = _keyring()
    if module is None:
        return ""
    try:
        value = module.get_password(SERVICE, _account(node_name, kind))
    except Exception:
        return ""
    return str(value) if value else ""


def forget_secret(node_name: str, kind: str) -> None:
    """Remove the kept secret, if any."""
    module = _keyring()
    if module is None:
        return
    try:
        module.delete_password(SERVICE, _account(node_name, kind))
    except Exception:
        return
