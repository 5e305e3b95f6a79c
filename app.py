"""Latent Explorer: ``streamlit run app.py``.

The page is ``explorer/app/script.py``. ``st.App`` serves it together with
the routes the browser fetches the maps' binary data from
(``explorer.app.routes``: points, latent means, decoders, image chunks).
"""

import streamlit as st

from explorer.app.routes import SCRIPT, middleware, routes

app = st.App(SCRIPT, routes=routes(), middleware=middleware())
