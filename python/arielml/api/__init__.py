"""The Python API the CLI wraps."""
