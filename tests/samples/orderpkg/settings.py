"""A module global the tests share, as an application's settings would be."""

MODE = "normal"

CACHE = "fresh"
