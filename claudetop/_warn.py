"""claudetop's one way to tell the user that something of its own is not working.

The hook never raises into the application: when it cannot do something (read its config, open its
sink, queue a deferred request) it carries on without it, and says so once per process on stderr,
not on every call.
"""

from __future__ import annotations

import sys

_warned: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """Print ``message`` on stderr the first time ``key`` is warned about in this process."""
    if key not in _warned:
        _warned.add(key)
        print(f"claudetop: {message}", file=sys.stderr)
