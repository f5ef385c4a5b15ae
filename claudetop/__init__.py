"""claudetop: ``top`` for Anthropic Claude API spend.

The public API is what this module exports; everything else is internal.
"""

from claudetop._version import __version__

__all__ = ["__version__"]
