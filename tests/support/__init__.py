"""Shared helpers for the tests: build real Go programs, start them, find free ports."""
