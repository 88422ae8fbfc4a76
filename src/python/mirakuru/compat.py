"""Compatibility names, as in Python mirakuru."""

import signal

# Windows has no SIGKILL; this package runs on Linux only, the name stays.
SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)

__all__ = ("SIGKILL",)
