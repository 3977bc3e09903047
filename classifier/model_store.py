"""Versioned models on disk, and which one is served.

Layout under ``root`` (a writable data folder; the shipped model stays read-only)::

    versions/<version>/   model.tflite, model.keras, metadata.json, report PNGs
    state.json            {"current": "<version>" | null, "history": [...]}

A version folder appears by one directory rename, and ``state.json`` is replaced
atomically, so a crash at any moment leaves either the old or the new model served.
``current = null`` means the base model (``DIGITBOT_MODEL`` or the shipped one).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from classifier.files import write_json_atomic
from classifier.serving import MODEL_FILE, default_model_path

STATE_FILE = "state.json"
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class StoreError(RuntimeError):
    """A version is missing, malformed or already exists."""


class ModelStore:
    def __init__(self, root: Path, base: Path | None = None) -> None:
        self.root = root
        self.versions = root / "versions"
        self.base = base or default_model_path()
        self.versions.mkdir(parents=True, exist_ok=True)

    # --- reading ----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        try:
            data = json.loads((self.root / STATE_FILE).read_text())
        except (OSError, ValueError):
            return {"current": None, "history": []}
        current = data.get("current")
        if current is not None and not (self.versions / current / MODEL_FILE).is_file():
            current = None  # a pointer to a missing version falls back to the base model
        history = [v for v in data.get("history", []) if isinstance(v, str)]
        return {"current": current, "history": history}

    def current(self) -> str | None:
        return self.state()["current"]  # type: ignore[no-any-return]

    def current_dir(self) -> Path:
        """The folder (or file) the bot should serve now."""
        version = self.current()
        return self.versions / version if version else self.base

    def previous(self) -> str | None:
        """What ``rollback`` would return to (None: the base model)."""
        history = self.state()["history"]
        return history[-2] if len(history) >= 2 else None

    def list_versions(self) -> list[str]:
        return sorted(p.name for p in self.versions.iterdir() if p.is_dir() and not p.name.startswith("."))

    # --- changing ---------------------------------------------------------------
    def publish(self, staged: Path, version: str) -> Path:
        """Move a finished model folder in as ``version`` (one rename) and serve it."""
        if not VERSION_PATTERN.match(version):
            raise StoreError(f"bad version name: {version!r}")
        if not (staged / MODEL_FILE).is_file():
            raise StoreError(f"{staged} holds no {MODEL_FILE}")
        target = self.versions / version
        if target.exists():
            raise StoreError(f"version {version} exists already")
        temporary = self.versions / f".incoming-{version}"
        if temporary.exists():
            shutil.rmtree(temporary)
        shutil.copytree(staged, temporary)
        os.replace(temporary, target)
        self._point_to(version)
        return target

    def rollback(self) -> str | None:
        """Serve the version before the current one; return it (None: the base model)."""
        state = self.state()
        history = state["history"]
        if state["current"] is None and not history:
            raise StoreError("already serving the base model; there is nothing to roll back to")
        if history:
            history.pop()
        previous = history[-1] if history else None
        write_json_atomic(self.root / STATE_FILE, {"current": previous, "history": history})
        return previous

    def _point_to(self, version: str) -> None:
        history = [*self.state()["history"], version]
        write_json_atomic(self.root / STATE_FILE, {"current": version, "history": history})

    def clean_up(self) -> list[str]:
        """Remove folders that an interrupted publish left behind; return their names."""
        removed = []
        for path in self.versions.iterdir():
            if path.name.startswith(".incoming-"):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed
