"""Thumbor-compatible on-the-fly image processing with Pillow."""

__version__ = "0.1.0"
