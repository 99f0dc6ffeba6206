"""The hall's first schema: devices and staff, the queue, help calls and faults, residents'
records, and the log every counter action leaves.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = [
    # --- who may ask: devices (kiosk, counter, board) and staff, each in one center
    """CREATE TABLE device (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        center_id    text NOT NULL,
        kind         text NOT NULL CHECK (kind IN ('kiosk', 'counter', 'board')),
        name         text NOT NULL,
        counter_no   integer CHECK ((kind = 'counter') = (counter_no IS NOT NULL)),
        token_hash   bytea NOT NULL UNIQUE,
        created_at   timestamptz NOT NULL DEFAULT now(),
        revoked_at   timestamptz,
        last_seen_at timestamptz
    )""",
    # A name is one live device's; a revoked device's name may be given to its replacement.
    "CREATE UNIQUE INDEX device_live_name ON device (name) WHERE revoked_at IS NULL",
    """CREATE TABLE staff (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        center_id     text NOT NULL,
        username      text NOT NULL UNIQUE,
        role          text NOT NULL CHECK (role IN ('clerk', 'supervisor')),
        password_hash text NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        disabled_at   timestamptz
    )""",
    """CREATE TABLE staff_session (
        token_hash bytea PRIMARY KEY,
        staff_id   uuid NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
        counter_no integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
    )""",
    # A resident who showed a verified personal code at a kiosk: the kiosk refers to them by
    # this session's handle, never by their identity.
    """CREATE TABLE resident_session (
        token_hash  bytea PRIMARY KEY,
        device_id   uuid NOT NULL REFERENCES device(id) ON DELETE CASCADE,
        resident_id text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL
    )""",
    """CREATE TABLE used_nonce (
        key_id     text NOT NULL,
        nonce      text NOT NULL,
        device_id  uuid NOT NULL,
        expires_at timestamptz NOT NULL,
        -- The kiosk claims a code (POST /v1/used-nonces) before it asks who it is (POST
        -- /v1/kiosk/residents): that one device may then open one session with it.
        session_opened boolean NOT NULL DEFAULT false,
        PRIMARY KEY (key_id, nonce)
    )""",
    "CREATE INDEX used_nonce_expiry ON used_nonce (expires_at)",
    # --- what a state-changing request answered, per device and key (replayed on a retry)
    """CREATE TABLE idempotency (
        owner        text NOT NULL,
        key          text NOT NULL,
        operation    text NOT NULL,
        request_hash bytea NOT NULL,
        response     jsonb,
        cancelled    boolean NOT NULL DEFAULT false,
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (owner, key)
    )""",
    # --- the queue
    """CREATE TABLE number_counter (
        center_id text NOT NULL,
        day       date NOT NULL,
        series    text NOT NULL,
        last      integer NOT NULL CHECK (last > 0),
        PRIMARY KEY (center_id, day, series)
    )""",
    # Blocks of numbers a kiosk holds to issue from while it cannot reach the hall.
    """CREATE TABLE number_lease (
        id         bigserial PRIMARY KEY,
        center_id  text NOT NULL,
        device_id  uuid NOT NULL REFERENCES device(id),
        day        date NOT NULL,
        series     text NOT NULL,
        category   text NOT NULL,
        priority   boolean NOT NULL,
        first      integer NOT NULL,
        last       integer NOT NULL CHECK (last >= first),
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX number_lease_by_device ON number_lease (device_id, day, series)",
    """CREATE TABLE ticket (
        id              text PRIMARY KEY,
        arrival         bigint GENERATED ALWAYS AS IDENTITY,
        center_id       text NOT NULL,
        day             date NOT NULL,
        category        text NOT NULL,
        series          text NOT NULL,
        seq             integer NOT NULL,
        number          text NOT NULL,
        priority        boolean NOT NULL,
        priority_reason text NOT NULL DEFAULT '',
        resident_id     text,
        appointment_id  text,
        device_id       uuid REFERENCES device(id),
        issued_at       timestamptz NOT NULL,
        queued_at       timestamptz NOT NULL,
        offline         boolean NOT NULL DEFAULT false,
        state           text NOT NULL DEFAULT 'waiting' CHECK (state IN
                          ('waiting', 'called', 'finished', 'no_show', 'withdrawn',
                           'transferred')),
        called_at       timestamptz,
        counter_no      integer,
        staff_id        uuid,
        recalls         integer NOT NULL DEFAULT 0,
        finished_at     timestamptz,
        transferred_to  text REFERENCES ticket(id),
        UNIQUE (center_id, day, series, seq)
    )""",
    "CREATE INDEX ticket_waiting ON ticket (center_id, day, category, queued_at) "
    "WHERE state = 'waiting'",
    "CREATE INDEX ticket_by_resident ON ticket (center_id, day, category, resident_id) "
    "WHERE state = 'waiting'",
    # One waiting ticket a person a category a day, whatever the concurrency.
    "CREATE UNIQUE INDEX ticket_one_waiting ON ticket (center_id, day, category, resident_id) "
    "WHERE state = 'waiting' AND resident_id IS NOT NULL",
    "CREATE INDEX ticket_served ON ticket (center_id, category, finished_at) "
    "WHERE state = 'finished'",
    # A counter serves one resident at a time: one called ticket a counter a day.
    "CREATE UNIQUE INDEX ticket_one_called ON ticket (center_id, day, counter_no) "
    "WHERE state = 'called'",
    # Consecutive priority calls per center, day and category: the fairness rule's memory
    # (a new day starts at 0, as its queue starts empty).
    """CREATE TABLE priority_streak (
        center_id text NOT NULL,
        day       date NOT NULL,
        category  text NOT NULL,
        streak    integer NOT NULL DEFAULT 0,
        PRIMARY KEY (center_id, day, category)
    )""",
    # Every action on the queue, with who did it (counter and staff member).
    """CREATE TABLE hall_event (
        id         bigserial PRIMARY KEY,
        center_id  text NOT NULL,
        at         timestamptz NOT NULL DEFAULT now(),
        kind       text NOT NULL,
        ticket_id  text,
        counter_no integer,
        staff_id   uuid,
        device_id  uuid,
        data       jsonb NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX hall_event_by_center ON hall_event (center_id, id)",
    # --- people who need a person, and devices that need one
    """CREATE TABLE help_call (
        id              text PRIMARY KEY,
        center_id       text NOT NULL,
        device_id       uuid NOT NULL REFERENCES device(id),
        screen          text NOT NULL,
        state           text NOT NULL DEFAULT 'raised'
                        CHECK (state IN ('raised', 'acknowledged', 'resolved')),
        raised_at       timestamptz NOT NULL DEFAULT now(),
        acknowledged_at timestamptz,
        acknowledged_by uuid REFERENCES staff(id),
        resolved_at     timestamptz,
        resolved_by     uuid REFERENCES staff(id)
    )""",
    "CREATE INDEX help_call_open ON help_call (center_id, raised_at) WHERE state <> 'resolved'",
    """CREATE TABLE device_fault (
        id          bigserial PRIMARY KEY,
        center_id   text NOT NULL,
        device_id   uuid NOT NULL REFERENCES device(id),
        kind        text NOT NULL,
        detail      text NOT NULL DEFAULT '',
        since       timestamptz NOT NULL DEFAULT now(),
        cleared_at  timestamptz
    )""",
    "CREATE UNIQUE INDEX device_fault_open ON device_fault (device_id, kind) "
    "WHERE cleared_at IS NULL",
    # --- residents' records (the platform's stand-in; seeded with fictional people)
    """CREATE TABLE resident (
        resident_id  text PRIMARY KEY,
        name         text NOT NULL,
        id_number    text NOT NULL UNIQUE,
        phone        text NOT NULL,
        entitlements text[] NOT NULL DEFAULT '{}'
    )""",
    """CREATE TABLE license (
        resident_id text NOT NULL REFERENCES resident(resident_id) ON DELETE CASCADE,
        position    integer NOT NULL,
        kind        text NOT NULL,
        title       text NOT NULL,
        number      text NOT NULL,
        valid_until date,
        PRIMARY KEY (resident_id, kind)
    )""",
    """CREATE TABLE appointment (
        appointment_id text PRIMARY KEY,
        center_id      text NOT NULL,
        resident_id    text NOT NULL REFERENCES resident(resident_id) ON DELETE CASCADE,
        category       text NOT NULL,
        starts_at      timestamptz NOT NULL,
        ends_at        timestamptz NOT NULL CHECK (ends_at > starts_at),
        checked_in_at  timestamptz,
        ticket_id      text REFERENCES ticket(id)
    )""",
    "CREATE INDEX appointment_by_resident ON appointment (resident_id, starts_at)",
    """CREATE TABLE application_counter (
        day  date PRIMARY KEY,
        last integer NOT NULL CHECK (last > 0)
    )""",
    """CREATE TABLE application (
        reference       text PRIMARY KEY,
        -- References count up and are read out loud; URLs and progress codes carry this
        -- unguessable id instead.
        public_id       text NOT NULL UNIQUE,
        center_id       text NOT NULL,
        resident_id     text NOT NULL,
        bundle_id       text NOT NULL,
        submitted_at    timestamptz NOT NULL,
        processing_days integer NOT NULL CHECK (processing_days >= 0),
        submission      jsonb NOT NULL,
        progress_code   text NOT NULL,
        status          text NOT NULL
                        CHECK (status IN ('submitted', 'accepted', 'needs_more', 'done'))
    )""",
    "CREATE INDEX application_by_resident ON application (resident_id, submitted_at)",
    """CREATE TABLE application_status (
        id         bigserial PRIMARY KEY,
        reference  text NOT NULL REFERENCES application(reference) ON DELETE CASCADE,
        status     text NOT NULL,
        at         timestamptz NOT NULL,
        note       text NOT NULL DEFAULT '',
        staff_id   uuid
    )""",
    """CREATE TABLE rating (
        id          bigserial PRIMARY KEY,
        center_id   text NOT NULL,
        at          timestamptz NOT NULL DEFAULT now(),
        level       integer NOT NULL CHECK (level BETWEEN 1 AND 5),
        reasons     text[] NOT NULL DEFAULT '{}',
        target_kind text NOT NULL CHECK (target_kind IN ('ticket', 'application', 'none')),
        target_id   text,
        counter_no  integer,
        device_id   uuid,
        CHECK ((target_kind = 'none') = (target_id IS NULL))
    )""",
    # A ticket or an application is rated once.
    "CREATE UNIQUE INDEX rating_once ON rating (target_kind, target_id) "
    "WHERE target_kind <> 'none'",
    """CREATE TABLE usage_event (
        id         bigserial PRIMARY KEY,
        center_id  text NOT NULL,
        device_id  uuid NOT NULL,
        at         timestamptz NOT NULL,
        kind       text NOT NULL,
        flow       text NOT NULL,
        step       text NOT NULL DEFAULT '',
        duration_s double precision
    )""",
    # The hall's own signing key for ticket and receipt codes (one row per key id).
    """CREATE TABLE signing_key (
        key_id      text PRIMARY KEY,
        private_key bytea NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
    )""",
]

TABLES = [
    "signing_key", "usage_event", "rating", "application_status", "application",
    "application_counter", "appointment", "license", "resident", "device_fault", "help_call",
    "hall_event", "priority_streak", "ticket", "number_lease", "number_counter",
    "idempotency", "used_nonce", "resident_session", "staff_session", "staff", "device",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
