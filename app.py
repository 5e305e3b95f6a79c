"""Latent Explorer: streamlit run app.py"""

from explorer.app.script import main

main()
