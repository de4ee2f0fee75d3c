"""Evaluation of text detection on labelled conversation sets (``vigie eval``)."""
