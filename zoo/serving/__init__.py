"""`python -m zoo serve`: the JSON API and web page for a saved model (see app.py)."""
