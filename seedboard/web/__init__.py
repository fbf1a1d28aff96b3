"""The dashboard: Klein routes that ask the stores and answer in HTML or JSON."""
