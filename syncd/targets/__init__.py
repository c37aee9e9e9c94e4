"""Targets: the directories syncd reads and writes."""
