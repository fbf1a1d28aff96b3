"""Order-dependent failures planted for ``seedboard bisect``: in trial's order (module by
module, alphabetically), each polluter runs some innocent tests before its victim."""
