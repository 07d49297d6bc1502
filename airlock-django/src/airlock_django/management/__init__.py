"""Management commands of airlock: ``airlock_relay``."""
