"""pytest fixtures for robustness tests (being written)."""
