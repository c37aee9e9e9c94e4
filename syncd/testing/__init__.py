"""Helpers for syncd's own tests: throw-away real servers to sync against."""
