"""The page Streamlit runs: ``streamlit run app.py`` (which calls ``main``),
or the explore session's server (which runs this file)."""

import streamlit as st

from explorer.app.page import render


def main() -> None:
    st.set_page_config(page_title="Latent Explorer", page_icon="🧭", layout="wide")
    st.title("Latent Explorer")
    st.markdown(
        "Each dot is an image, drawn where the encoder puts it. "
        "**Click a dot** to select it in both maps; **click empty space** to see "
        "what the decoder makes there; drag the sliders to move the red ×."
    )
    render()


if __name__ == "__main__":
    main()
