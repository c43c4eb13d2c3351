"""Benchmarks: ``python -m workbook bench``. Figures are ratios to a baseline run alongside."""
