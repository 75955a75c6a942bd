"""Where the index lives by default: MEDCODES_HOME, else the user's data folder."""

from __future__ import annotations

import os
from pathlib import Path


def default_home() -> Path:
    """The index home: ``$MEDCODES_HOME`` or ``~/.local/share/medcodes/index``."""
    configured = os.environ.get("MEDCODES_HOME")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "medcodes" / "index"
