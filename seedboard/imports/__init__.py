"""Results from other runners' files: JUnit XML and subunit streams, read into
``seedboard.domain.Result`` records for the store (``seedboard import``)."""
