"""The classic page (``benchmarks.classic.page``) with the product's routes:
``streamlit run benchmarks/classic/app.py`` from the repository's root."""

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # (Streamlit puts this folder first, not the root)
    sys.path.insert(0, str(ROOT))

from explorer.app.routes import routes  # noqa: E402

app = st.App(Path(__file__).with_name("page.py"), routes=routes())
