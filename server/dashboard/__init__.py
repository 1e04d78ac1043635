"""The aggregator's dashboard: a FastAPI application over the release store (read-only), for members with a token."""
