"""Latent Explorer: ``streamlit run app.py``.

The page is ``explorer/app/script.py``. ``st.App`` serves it together with
the routes the browser fetches the maps' binary data from
(``explorer.app.routes``: points, latent means, decoders, image chunks), and
warms the shared caches at start (``lifespan``).
"""

import contextlib
import logging
import threading

import streamlit as st

from explorer.app.routes import SCRIPT, routes


def warm() -> None:
    """The page's imports and the default view's models, codes and points,
    loaded while the first browser loads Streamlit's frontend."""
    try:
        from explorer.app import catalogue

        catalogue.warm()
    except Exception:  # noqa: BLE001 - the page reports any problem itself
        logging.getLogger(__name__).debug("warm-up failed", exc_info=True)


@contextlib.asynccontextmanager
async def lifespan(app):
    threading.Thread(target=warm, name="latent-explorer-warm", daemon=True).start()
    yield


app = st.App(SCRIPT, routes=routes(), lifespan=lifespan)
