"""Gradio UI (only Gradio here; it calls qa)."""
