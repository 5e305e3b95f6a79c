"""The page Streamlit runs: ``streamlit run app.py`` (which calls ``main``),
or the explore session's server (which runs this file)."""

import streamlit as st

from explorer.app import first, heap, i18n
from explorer.app import keys as K
from explorer.app.i18n import _


def header() -> None:
    """The page's settings, title and first lines."""
    st.set_page_config(page_title="Latent Explorer", page_icon="🧭", layout="wide")
    st.title(_("Latent Explorer"))
    if "lesson" in st.query_params or st.session_state.get(K.LESSON):
        # (the lesson says what to do)
        return
    st.markdown(
        _(
            "Each dot is an image, drawn where the encoder puts it. "
            "**Click a dot** to select it in both maps; **click empty space** to "
            "see what the decoder makes there; drag the sliders to move the red ×."
        )
    )


def main() -> None:
    new = first.fresh()  # (before the language is set in the state)
    i18n.choose()
    header()
    # A new visitor's maps first, from what the last one was shown; then the
    # page (its import brings PyTorch and scikit-learn).
    painted = first.paint(new)
    from explorer.app.page import render

    render(painted)
    heap.settle()  # what the run imported is kept out of later collections


if __name__ == "__main__":
    main()
