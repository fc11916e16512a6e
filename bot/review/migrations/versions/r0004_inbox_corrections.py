"""The inbox: reviewers' corrections of misread founder messages, and the runner-up
intents of each founder message in the read model. The read model is read again
from the start (its state reset) so that messages read before have their runner-ups.
And the mentors' Slack DM about saved blocks: whether they want it, and which
saves were sent.

Revision ID: r0004
Revises: r0003
Create Date: 2026-12-02 14:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_corrections",
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=255), nullable=True),
        sa.Column("entities", sa.Text(), nullable=False),
        sa.Column("corrected_by", sa.String(length=64), nullable=False),
        sa.Column("corrected_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("sender_id", "event_id", name=op.f("pk_review_corrections")),
    )
    with op.batch_alter_table("review_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_corrections_key"), ["key"], unique=False)
    with op.batch_alter_table("rm_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ranking", sa.Text(), nullable=True))
    with op.batch_alter_table("review_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_notify", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table(
        "review_block_notices",
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("notified_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("sender_id", "event_id", name=op.f("pk_review_block_notices")),
    )
    # The next update reads every conversation again (and so fills `ranking`).
    op.execute("DELETE FROM rm_state WHERE name = 'last_event_id'")


def downgrade() -> None:
    op.drop_table("review_block_notices")
    with op.batch_alter_table("review_users", schema=None) as batch_op:
        batch_op.drop_column("slack_notify")
    with op.batch_alter_table("rm_messages", schema=None) as batch_op:
        batch_op.drop_column("ranking")
    with op.batch_alter_table("review_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_corrections_key"))
    op.drop_table("review_corrections")
