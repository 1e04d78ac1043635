"""What both sides use that is not contract: atomic file writes, the release as JSON, shared figures, progress.

``common`` imports only ``protos``; ``client`` and ``server`` may both import it without importing
each other.
"""
