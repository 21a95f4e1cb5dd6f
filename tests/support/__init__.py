"""The shared test harness: real servers, private databases, traffic, invariants, cases.

Imported as `tests.support` by the test suite and by the benchmarks, which run from the
repository root as `python -m bench.<name>` so that this package is importable as it is.
"""
