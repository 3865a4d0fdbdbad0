"""credflow's command line and settings: the one place that wires the other parts together."""

__version__ = "0.1.0"
