"""Typing suite: runs real type checkers over sample files."""
