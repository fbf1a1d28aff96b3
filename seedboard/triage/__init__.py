"""Triage: which failures of a test are alike, how flaky a test is, and how to replay a seed.

Pure functions over plain values: nothing here touches a database, the network
or a reactor, so the rules can be tested and reused on their own.
"""
