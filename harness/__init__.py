"""Tools that drive the app from outside: a real Chromium against
``streamlit run`` (``driver``) and many browser sessions at once (``load``).

Shared by the browser tests (``tests/e2e``) and the benchmark
(``benchmarks``); neither the product (``explorer``) nor its wheel holds them.
"""
