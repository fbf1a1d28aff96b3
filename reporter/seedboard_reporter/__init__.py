"""The trial side of seedboard: the ``seedboard`` reporter and where it sends results.

Imported inside every test run: standard library and Twisted only, never
Klein, Jinja2 or SQLAlchemy at import time.
"""
