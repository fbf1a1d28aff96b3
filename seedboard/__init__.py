"""Seedboard: record seeded trial runs and find the seeds behind flaky tests.

This package must stay cheap to import: trial imports it on every test run.
"""

__version__ = "0.1.0"
