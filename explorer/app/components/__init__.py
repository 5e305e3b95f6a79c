"""Custom Streamlit components: the latent map, the live decoder, the density layer."""
