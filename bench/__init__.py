"""Benchmarks, run from the repository root as modules: `python -m bench.speed`.

As a package they import the shared harness (`tests.support`) and each other without
touching sys.path.
"""
