"""Helpers every layer's wiring shares: metadata, failures, run context, range reports."""
