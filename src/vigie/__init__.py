"""Vigie: child-safety control tools for online spaces where adults and minors meet."""

__version__ = "0.1.0"
