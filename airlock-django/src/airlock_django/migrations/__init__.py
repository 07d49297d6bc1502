"""Migrations of the airlock app: the outbox table."""
