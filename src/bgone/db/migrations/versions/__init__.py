"""Revisions, numbered 0001, 0002, ... in file names `v<number>_<slug>.py`."""
