"""Streamlit UI pieces: functions that draw widgets and return values."""
