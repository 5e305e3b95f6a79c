"""The benchmark: ``python -m benchmarks`` (see ``benchmarks.bench``)."""
