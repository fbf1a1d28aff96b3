"""Stored failures get their fingerprint again, now that addresses and node names are masked.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from seedboard.services.refingerprint import recompute_fingerprints

    recompute_fingerprints(op.get_bind())


def downgrade() -> None:
    # The earlier rule's code is gone; fingerprints made by the new rule still group, and
    # upgrading again recomputes them.
    pass
