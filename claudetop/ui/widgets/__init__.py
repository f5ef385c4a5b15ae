"""Reusable pieces of the monitor: figures (formatting), dialogs and the filter input."""
