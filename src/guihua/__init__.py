"""Guihua."""
