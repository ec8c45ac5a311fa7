"""gofail-py: a Python toolkit for gofail, the failpoint library of etcd."""

from __future__ import annotations

__version__ = "0.1.0"
