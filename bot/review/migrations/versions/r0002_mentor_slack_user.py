"""A mentor's Slack user id: the Slack app reads its mentors (and their cohorts)
from the dashboard's users (bot/review/mentors.py).

Revision ID: r0002
Revises: r0001
Create Date: 2026-11-28 02:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_user_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_review_users_slack_user_id"), ["slack_user_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("review_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_users_slack_user_id"))
        batch_op.drop_column("slack_user_id")
