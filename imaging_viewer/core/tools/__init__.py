"""Pointer interactions as Qt-free functions and drag generators."""
