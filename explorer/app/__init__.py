"""The Streamlit app: the page, its state, the panels, tabs and components."""
