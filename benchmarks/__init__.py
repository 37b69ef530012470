"""Side-by-side benchmarks of apinotebook against the raw libraries.

Run ``python -m benchmarks`` (or ``make bench``); see ``benchmarks/__main__.py``.
"""
