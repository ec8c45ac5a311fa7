"""Explore: run one scenario template over every failpoint × terms of a source tree."""
