"""Mailjet: the HTTP client (`client.py`), its settings and its errors."""
