"""Kiosks an administrator marked as having a resident ID card reader: the hall takes their
word for a card they read (POST /v1/kiosk/residents/id-card), and no other device's.

The hall cannot verify a card read (only the kiosk's reader saw the card, and its security
module's check stays in the kiosk), so the trust is a property of the device, set by a
person with access to the hall (`kiosk hall add-device --id-card-reader`,
`kiosk hall set-id-card-reader`). A counter or a board has no reader: the CHECK keeps a
mistyped command from giving one that trust.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE device ADD COLUMN reads_id_cards boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE device ADD CONSTRAINT device_id_card_reader_is_a_kiosks "
               "CHECK (NOT reads_id_cards OR kind = 'kiosk')")


def downgrade() -> None:
    # Dropping the column drops its CHECK with it.
    op.execute("ALTER TABLE device DROP COLUMN IF EXISTS reads_id_cards")
