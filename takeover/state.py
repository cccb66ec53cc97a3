"""Progress of one stack's takeover in `.takeover/<stack>/state.json`, written after every change.

The folder is also the operator's local backup folder (the run-history dumps), so it is private
to the operator (mode 0700). The file never holds a secret value: only names, counts, run ids,
replicas, paths and checksums.
"""
from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any, Optional

STEPS = ("backup", "secrets", "uninstall", "deploy", "quiesce", "restore", "scale-up", "old-objects")


class Locked(Exception):
    pass


class State:
    def __init__(self, folder: Path, stack: str):
        self.folder = folder
        self.path = folder / "state.json"
        self.data: dict[str, Any] = {"stack": stack, "version": 1, "steps": {}}
        if self.path.exists():
            self.data = json.loads(self.path.read_text())
        self._lock_file = None

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def lock(self) -> None:
        """One takeover per stack at a time; the lock goes with the process, even on a crash."""
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self._lock_file = open(self.folder / ".lock", "w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked(f"another take-over of this stack is running (lock {self.folder / '.lock'})") from None

    def unlock(self) -> None:
        if self._lock_file:
            self._lock_file.close()  # closing releases the lock
            self._lock_file = None

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.path)

    def status(self, step: str) -> Optional[str]:
        return self.data["steps"].get(step, {}).get("status")

    def is_done(self, step: str) -> bool:
        return self.status(step) == "done"

    def mark(self, step: str, status: str, at: str, message: str = "") -> None:
        entry = {"status": status, "at": at}
        if message:
            entry["message"] = message
        self.data["steps"][step] = entry
        self.save()

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.save()
