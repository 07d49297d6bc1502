"""The suite's Django app: its tasks, and worker-side scoping turned on at start."""
