"""Detection: turns a message (with its conversation context) or a media reference into signals.

Nothing in here knows of HTTP or SQL; state comes in and goes out as plain dictionaries.
"""
