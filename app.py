"""Latent Explorer: streamlit run app.py"""

import streamlit as st

from explorer.app.page import render

st.set_page_config(page_title="Latent Explorer", page_icon="🧭", layout="wide")
st.title("Latent Explorer")
st.markdown(
    "Each dot is an image, drawn where the encoder puts it. "
    "**Click a dot** to select it in both maps; **click empty space** to see what "
    "the decoder makes there; drag the sliders to move the red ×."
)
render()
