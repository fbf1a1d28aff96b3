"""Services: triage composed over storage, one module per area of the web layer's reads
and writes.

Each function takes a connection first and is what the web layer hands to
``pool.read``/``pool.write``, so it runs on the database thread: it asks
``seedboard.db`` for plain records, then judges them with the pure functions of
``seedboard.triage``.  The arrows run web -> services -> (db, triage) -> domain;
``tests/test_layers.py`` checks that none points back.
"""
