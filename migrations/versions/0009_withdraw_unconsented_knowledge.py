"""withdraw knowledge entries copied from demands without the farmer's consent

Until now a demand marked 已解决 joined the similar-questions knowledge base in the farmer's own
words (phone numbers and names included). From now on only a farmer's yes shares it, redacted;
entries copied before are withdrawn (their demands keep everything).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 01:50:00
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM knowledge_entries WHERE source = 'demand'")


def downgrade() -> None:
    pass  # withdrawn entries are not restored: nobody agreed to share them
