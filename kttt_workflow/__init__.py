"""kttt-workflow: a workflow engine for Vietnamese directive cascades."""

__version__ = "0.1.0"
