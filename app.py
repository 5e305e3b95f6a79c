"""Latent Explorer: ``streamlit run app.py``.

The page is ``explorer/app/script.py``. ``st.App`` serves it together with
the routes the browser fetches the maps' binary data from
(``explorer.app.routes``: points, latent means, decoders, image chunks).
"""

import os

# One PyTorch thread in the server (set before anything imports PyTorch): a
# rerun's decodes are a few rows each, for which the intra-op pool's
# hand-offs cost more than they save; the server's parallelism is its
# sessions, and its processes (latent-explorer serve --workers N).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import streamlit as st  # noqa: E402

from explorer.app.routes import SCRIPT, middleware, routes  # noqa: E402

app = st.App(SCRIPT, routes=routes(), middleware=middleware())
