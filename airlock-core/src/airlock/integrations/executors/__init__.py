"""Compatibility paths of the original library's executors.

``sync`` is here; the others forward to their own distributions.
"""
