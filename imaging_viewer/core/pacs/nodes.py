"""Remote nodes: a DIMSE peer (PS3.8 Upper Layer, PS3.7 DIMSE) or a DICOMweb
origin server (PS3.18), and how the command line names one.

``NODE`` is a configured node's name, ``AET@HOST:PORT`` for DIMSE, or an
``http://``/``https://`` DICOMweb base URL.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Final, TypeAlias

from imaging_viewer.core.annotations.serialize import user_data_dir
from imaging_viewer.core.files import write_text_atomic
from imaging_viewer.core.pacs.errors import PacsError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "DEFAULT_CALLING_AET",
    "DEFAULT_MOVE_PORT",
    "DimseNode",
    "Node",
    "TlsSettings",
    "WebNode",
    "load_nodes",
    "nodes_path",
    "parse_node",
    "save_nodes",
]

DEFAULT_CALLING_AET: Final = "IMAGINGVIEWER"
DEFAULT_MOVE_PORT: Final = 11112
"""The storage SCP's port for C-MOVE: 11112 is IANA's ``dicom`` port for
non-privileged use (PS3.8 G.1)."""

# PS3.5 6.2: an AE title is 1-16 characters of the default repertoire, not only
# spaces, without backslash or control characters.
_AE_TITLE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")
_DIMSE = re.compile(r"^(?P<aet>[^@]+)@(?P<host>\[[^\]]+\]|[^:@]+):(?P<port>\d+)$")


def check_ae_title(title: str) -> str:
    """``title`` if it is a valid AE title (PS3.5 6.2, VR AE), else PacsError."""
    if not _AE_TITLE.match(title) or not title.strip():
        raise PacsError(
            f"bad AE title {title!r}: 1 to 16 characters, no backslash (PS3.5 6.2)"
        )
    return title


@dataclass(frozen=True)
class TlsSettings:
    """TLS for a DIMSE association (PS3.15 B.1): CA to trust, our certificate."""

    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""


@dataclass(frozen=True)
class DimseNode:
    """A DIMSE peer. ``move_port`` set: retrieve by C-MOVE to our storage SCP on
    that port; None: by C-GET."""

    called_aet: str
    host: str
    port: int
    calling_aet: str = DEFAULT_CALLING_AET
    name: str = ""
    tls: TlsSettings | None = None
    move_port: int | None = None

    def describe(self) -> str:
        """``AET@HOST:PORT``."""
        return f"{self.called_aet}@{self.host}:{self.port}"


@dataclass(frozen=True)
class WebNode:
    """A DICOMweb origin server: its base URL and how we authenticate (none,
    HTTP basic, or a bearer token). ``auth`` ("basic", "bearer" or "" for what
    the fields imply) is kept in the nodes file, the password and token not."""

    base_url: str
    name: str = ""
    user: str = ""
    password: str = ""
    token: str = ""
    auth: str = ""

    def describe(self) -> str:
        """The base URL."""
        return self.base_url


Node: TypeAlias = DimseNode | WebNode


def nodes_path() -> Path:
    """``<user data>/pacs_nodes.json``: the configured nodes, without secrets."""
    return user_data_dir() / "pacs_nodes.json"


def load_nodes(path: Path | None = None) -> dict[str, Node]:
    """The configured nodes by name; none when the file is missing or unreadable.

    Passwords and tokens are never in the file (see :func:`save_nodes`).
    """
    source = path or nodes_path()
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
        nodes: dict[str, Node] = {}
        for entry in document.get("nodes", []):
            kind = entry.pop("kind")
            if kind == "dimse":
                tls = entry.pop("tls", None)
                node: Node = DimseNode(**entry, tls=TlsSettings(**tls) if tls else None)
            else:
                node = WebNode(**entry)
            nodes[node.name] = node
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}
    return nodes


def save_nodes(nodes: dict[str, Node], path: Path | None = None) -> None:
    """Write the nodes, atomically, without their passwords and tokens.

    Secrets are never written in clear text: the window keeps them in the
    platform keyring when there is one (:mod:`~.credentials`), else they are
    given each time (``--password``, ``--token``, or asked when used).
    """
    entries = []
    for node in nodes.values():
        if isinstance(node, DimseNode):
            entries.append({"kind": "dimse", **asdict(node)})
        else:
            entries.append(
                {"kind": "web", **asdict(replace(node, password="", token=""))}
            )
    target = path or nodes_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target, json.dumps({"nodes": entries}, indent=2))


def parse_node(
    text: str,
    *,
    calling_aet: str = DEFAULT_CALLING_AET,
    user: str = "",
    password: str = "",
    token: str = "",
    move_port: int | None = None,
    configured: dict[str, Node] | None = None,
) -> Node:
    """The node ``text`` names (see the module docstring); options override the
    configured node's. Raises PacsError for a name that is none of these."""
    known = configured if configured is not None else load_nodes()
    if text in known:
        node = known[text]
        if isinstance(node, DimseNode):
            return replace(
                node,
                calling_aet=check_ae_title(calling_aet),
                move_port=move_port if move_port is not None else node.move_port,
            )
        return replace(
            node,
            user=user or node.user,
            password=password or node.password,
            token=token or node.token,
        )
    if text.startswith(("http://", "https://")):
        return WebNode(text.rstrip("/"), user=user, password=password, token=token)
    match = _DIMSE.match(text)
    if match is None:
        raise PacsError(
            f"unknown node {text!r}: give a configured node's name, AET@HOST:PORT "
            "or an http(s):// DICOMweb URL"
        )
    port = int(match["port"])
    if not 0 < port < 65536:
        raise PacsError(f"bad port {port} in {text!r}")
    if move_port is not None and not 1024 <= move_port < 65536:
        raise PacsError(
            f"bad --move port {move_port}: give a user port from 1024 to 65535"
        )
    return DimseNode(
        called_aet=check_ae_title(match["aet"]),
        host=match["host"].strip("[]"),
        port=port,
        calling_aet=check_ae_title(calling_aet),
        move_port=move_port,
    )
