"""How many cores nextdrop's parallel work uses: every core, up to eight."""

from __future__ import annotations

import os

MAX_CORES = 8  # beyond this, forked workers' memory grows faster than the work shrinks


def cores() -> int:
    """Read at each call, so a test can pretend the machine has more cores than it has."""
    return min(os.cpu_count() or 1, MAX_CORES)
