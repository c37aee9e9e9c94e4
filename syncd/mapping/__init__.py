"""Mapping: org view + YAML rules -> the desired directory objects."""
