"""A loopback fake Anthropic API and a workload generator: the engine of the demo, tests and benches."""

from claudetop.simulate.api import FakeAnthropic, FakeConfig, FakeStats
from claudetop.simulate.clock import SimClock
from claudetop.simulate.faults import FaultPlan, FaultRule

__all__ = ["FakeAnthropic", "FakeConfig", "FakeStats", "FaultPlan", "FaultRule", "SimClock"]
