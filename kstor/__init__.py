"""kstor: a terminal dashboard and chaos tester for Kubernetes storage."""

__version__ = "0.1.0"
