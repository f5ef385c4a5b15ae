"""One module per panel. Each renders a ``Snapshot`` and computes nothing."""

from claudetop.ui.panels.base import Panel
from claudetop.ui.panels.batches import BatchesPanel
from claudetop.ui.panels.cache import CachePanel
from claudetop.ui.panels.findings import FindingsPanel
from claudetop.ui.panels.header import HeaderPanel
from claudetop.ui.panels.models import ModelsPanel
from claudetop.ui.panels.policies import PoliciesPanel
from claudetop.ui.panels.projection import ProjectionPanel
from claudetop.ui.panels.requests import RequestsPanel

__all__ = [
    "BatchesPanel",
    "CachePanel",
    "FindingsPanel",
    "HeaderPanel",
    "ModelsPanel",
    "Panel",
    "PoliciesPanel",
    "ProjectionPanel",
    "RequestsPanel",
]
