"""The benchmark suite: rqledger's costs as ratios against bare RQ on the same Redis, in the same run.

Run `python -m benchmarks --help`. Not collected by pytest; tests/benchmarks_smoke
only checks that a tiny run completes and prints its table.
"""
