"""Layer 0: argument checks, result objects and their JSON, provenance, progress.

Imports nothing from the rest of `landscape`."""
