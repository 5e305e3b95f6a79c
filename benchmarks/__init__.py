"""The benchmark: ``python -m benchmarks`` (the suites: ``benchmarks.suites``)."""
