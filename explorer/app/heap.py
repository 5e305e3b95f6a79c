"""The server's long-lived objects, kept out of the full garbage collections
Streamlit runs after every script run.

Streamlit calls ``gc.collect(2)`` at the end of each run (its
``runner.postScriptGC`` option), and a full collection walks every object the
collector tracks: with PyTorch, scikit-learn, SciPy and Plotly imported that
is some 300,000 objects and about 100 ms, the largest part of a click's
follow-up, and with several users one collection after another. Those
objects are the modules and the caches the page loads once; ``settle``
moves them to the collector's permanent generation (``gc.freeze``) once a
run has imported them, so later collections walk only what runs create.

The cost: a reference cycle that is frozen and later becomes garbage is
never collected (objects without a cycle are still freed when their last
reference goes). What is frozen here is what a run left alive right after a
full collection, the imported modules above all; a session's state frozen
with them is freed as usual when the session ends, unless it holds a cycle.
"""

from __future__ import annotations

import gc
import sys
import threading

_lock = threading.Lock()
_settled_at = 0  # how many modules were imported when the heap was last frozen


def settle() -> bool:
    """After a run: if modules were imported since the last call, collect,
    then freeze what survives. Returns whether it froze (a run that imported
    nothing new costs a comparison)."""
    global _settled_at
    if len(sys.modules) == _settled_at:
        return False
    with _lock:
        n = len(sys.modules)
        if n == _settled_at:
            return False
        gc.collect()
        gc.freeze()
        _settled_at = n
    return True
