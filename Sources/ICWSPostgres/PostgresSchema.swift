/// The store's schema as numbered migrations. A migration, once released, never changes: a change to the
/// schema is a new entry at the end.
enum PostgresSchema {
    /// The key of the transaction-level advisory lock that serialises migrations of every node.
    static let migrationLock: Int64 = 0x6F70_656E_6963_7773 // "openicws"

    /// The statements of each version, in order; version n is `migrations[n - 1]`.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE interactions (
                id text PRIMARY KEY, type text NOT NULL, remote_name text NOT NULL, workgroup text,
                agent text NOT NULL, state text NOT NULL, created_at timestamptz NOT NULL)
            """,
            """
            CREATE TABLE assistance_requests (
                id text PRIMARY KEY, number bigint NOT NULL, interaction_id text NOT NULL, workgroup text NOT NULL,
                initiator text NOT NULL, state smallint NOT NULL, created_at timestamptz NOT NULL)
            """,
            // One active (not completed) request per interaction, whichever node writes it.
            "CREATE UNIQUE INDEX assistance_requests_one_active ON assistance_requests (interaction_id) WHERE state <> 2",
            "CREATE INDEX assistance_requests_active ON assistance_requests (number) WHERE state <> 2",
            "CREATE INDEX assistance_requests_number ON assistance_requests (number)",
            """
            CREATE TABLE assistance_participants (
                assistance_id text NOT NULL, position integer NOT NULL, user_id text NOT NULL, action smallint NOT NULL,
                PRIMARY KEY (assistance_id, position))
            """,
            """
            CREATE TABLE assistance_lines (
                assistance_id text NOT NULL, position integer NOT NULL, participant_id text NOT NULL, text text NOT NULL,
                time_added timestamptz NOT NULL, PRIMARY KEY (assistance_id, position))
            """,
            "CREATE TABLE nodes (id text PRIMARY KEY, heartbeat_at timestamptz NOT NULL, applied_change_id bigint NOT NULL)",
            """
            CREATE TABLE presence (
                user_id text NOT NULL, node_id text NOT NULL, since timestamptz NOT NULL, PRIMARY KEY (user_id, node_id))
            """,
            "CREATE INDEX presence_node ON presence (node_id)",
            """
            CREATE TABLE changes (
                id bigint PRIMARY KEY, node text NOT NULL, events jsonb NOT NULL, committed_at timestamptz NOT NULL DEFAULT now())
            """,
            """
            CREATE TABLE change_counter (
                one boolean PRIMARY KEY DEFAULT true CHECK (one), last_id bigint NOT NULL)
            """,
            "INSERT INTO change_counter (one, last_id) VALUES (true, 0)",
        ],
        [
            // What an interaction carries beyond its columns (a placed call's direction and number, custom
            // attributes) as JSON text, "" when nothing; and users' statuses, as JSON text.
            "ALTER TABLE interactions ADD COLUMN extras text NOT NULL DEFAULT ''",
            "CREATE TABLE user_statuses (user_id text PRIMARY KEY, status text NOT NULL)",
        ],
    ]
}
