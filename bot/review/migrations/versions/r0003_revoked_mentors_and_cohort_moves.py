"""Slack ids of revoked mentors (the dashboard's "no access" is final), and the
record of admins' cohort moves (a conversation's cohort is otherwise fixed at its
first message).

Revision ID: r0003
Revises: r0002
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_revoked_slack_mentors",
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("slack_user_id", name=op.f("pk_review_revoked_slack_mentors")),
    )
    op.create_table(
        "review_cohort_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("from_cohort", sa.String(length=64), nullable=False),
        sa.Column("to_cohort", sa.String(length=64), nullable=False),
        sa.Column("moved_by", sa.String(length=64), nullable=False),
        sa.Column("moved_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_cohort_moves")),
    )
    with op.batch_alter_table("review_cohort_moves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_cohort_moves_sender_id"), ["sender_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_cohort_moves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_cohort_moves_sender_id"))
    op.drop_table("review_cohort_moves")
    op.drop_table("review_revoked_slack_mentors")
