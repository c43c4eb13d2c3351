"""Channels Workbook helpers."""
