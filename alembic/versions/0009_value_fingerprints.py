"""Stored failures get their fingerprint again, now that failed assertions' values are masked.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from seedboard.services.refingerprint import recompute_fingerprints

    recompute_fingerprints(op.get_bind())


def downgrade() -> None:
    # As 0008's: the earlier rule's code is gone, and upgrading again recomputes them.
    pass
