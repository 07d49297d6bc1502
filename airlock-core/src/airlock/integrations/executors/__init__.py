"""Seed-compatible executor paths: ``sync`` here, the others in their distributions."""
