"""The live monitor (Textual). Nothing outside this package imports ``textual``."""

from claudetop.ui.app import MonitorApp

__all__ = ["MonitorApp"]
