"""wirestance benchmarks: parse, classify, reprocess end to end, growth and fetch, each against a floor.

Run `python -m bench` (default --n 2000); see `python -m bench --help` and bench/RESULTS.md.
"""
