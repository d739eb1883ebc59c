"""The dev-mode state folder (default ./.strongroom): SQLite database, root keys, sealing key,
tokens, and ``dev.json`` which tells other commands (``strongroom audit query``) where the
running dev control plane is."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STATE_DIR = Path(".strongroom")


@dataclass(frozen=True, slots=True)
class DevState:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "strongroom.sqlite3"

    @property
    def root_keys(self) -> Path:
        return self.root / "root-keys.json"

    @property
    def sealing_key(self) -> Path:
        return self.root / "sealing-key.json"

    @property
    def admin_token_file(self) -> Path:
        return self.root / "admin-token"

    @property
    def public_key_file(self) -> Path:
        return self.root / "sealing-key.pub.pem"

    @property
    def info_file(self) -> Path:
        return self.root / "dev.json"

    def prepare(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)

    def token(self, path: Path) -> str:
        """A random token kept in a 0600 file, created on first use."""
        if path.exists():
            return path.read_text().strip()
        value = secrets.token_urlsafe(32)
        write_private(path, value + "\n")
        return value

    def write_info(self, control_plane_url: str, namespace: str = "", app: str = "") -> None:
        document = {"controlPlane": control_plane_url, "adminTokenFile": str(self.admin_token_file)}
        if app:
            document.update(namespace=namespace, app=app)
        write_private(self.info_file, json.dumps(document, indent=2) + "\n")

    def read_info(self) -> dict[str, str] | None:
        try:
            document = json.loads(self.info_file.read_text())
        except (OSError, ValueError):
            return None
        return document if isinstance(document, dict) else None


def write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)
