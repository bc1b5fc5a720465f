-- 0001_init: the first schema of sipwarden.
-- Portable SQL for SQLite and PostgreSQL. The store replaces {{ID}} (an
-- auto-increment 64-bit primary key) and {{BLOB}} (bytes) per backend; a
-- block after "--@sqlite" or "--@postgres" runs only on that backend, up to
-- "--@all". Times are microseconds since the epoch, UTC (BIGINT); money is
-- an integer count of micro-units of the tenant's currency.

CREATE TABLE schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_us BIGINT NOT NULL
);

CREATE TABLE tenants (
	id {{ID}},
	name TEXT NOT NULL UNIQUE,
	domain TEXT NOT NULL UNIQUE,
	timezone TEXT NOT NULL DEFAULT 'UTC',
	currency TEXT NOT NULL DEFAULT 'EUR',
	settings TEXT NOT NULL DEFAULT '{}',
	created_us BIGINT NOT NULL,
	updated_us BIGINT NOT NULL
);

CREATE TABLE extensions (
	id {{ID}},
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	number TEXT NOT NULL,
	display_name TEXT NOT NULL DEFAULT '',
	enabled INTEGER NOT NULL DEFAULT 1,
	settings TEXT NOT NULL DEFAULT '{}',
	created_us BIGINT NOT NULL,
	updated_us BIGINT NOT NULL,
	password_rotated_us BIGINT NOT NULL,
	last_registered_us BIGINT,
	last_source TEXT,
	last_user_agent TEXT,
	UNIQUE (tenant_id, number)
);

-- The SIP password of an extension: sealed (secretbox) under the key
-- key_id of secret.key, a keyed hash for uniqueness and reuse checks, and
-- the HA1 digests the registrar uses (RFC 2617 MD5, RFC 8760 SHA-256).
CREATE TABLE ext_secrets (
	extension_id BIGINT PRIMARY KEY REFERENCES extensions(id) ON DELETE CASCADE,
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	key_id TEXT NOT NULL,
	password_box {{BLOB}} NOT NULL,
	pw_khash {{BLOB}} NOT NULL,
	ha1_md5 TEXT NOT NULL,
	ha1_sha256 TEXT NOT NULL,
	updated_us BIGINT NOT NULL
);
CREATE INDEX ext_secrets_khash ON ext_secrets (tenant_id, pw_khash);

-- Keyed hashes of an extension's earlier passwords (never the password).
CREATE TABLE password_history (
	id {{ID}},
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	extension_id BIGINT NOT NULL REFERENCES extensions(id) ON DELETE CASCADE,
	key_id TEXT NOT NULL,
	pw_khash {{BLOB}} NOT NULL,
	created_us BIGINT NOT NULL
);
CREATE INDEX password_history_ext ON password_history (extension_id, created_us);

-- Registrations; each node keeps and publishes the ones it holds.
CREATE TABLE bindings (
	id {{ID}},
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	extension_id BIGINT NOT NULL REFERENCES extensions(id) ON DELETE CASCADE,
	node TEXT NOT NULL,
	contact TEXT NOT NULL,
	instance TEXT,
	reg_id INTEGER,
	source TEXT NOT NULL,
	transport TEXT NOT NULL,
	user_agent TEXT,
	call_id TEXT NOT NULL,
	cseq BIGINT NOT NULL,
	expires_us BIGINT NOT NULL,
	created_us BIGINT NOT NULL,
	updated_us BIGINT NOT NULL,
	UNIQUE (extension_id, contact)
);
CREATE INDEX bindings_node ON bindings (node);

-- Carrier trunks: a tenant's own, or shared by the provider (tenant_id
-- NULL). addresses: the CIDRs a trunk's traffic may come from.
CREATE TABLE trunks (
	id {{ID}},
	tenant_id BIGINT REFERENCES tenants(id) ON DELETE CASCADE,
	name TEXT NOT NULL UNIQUE,
	host TEXT NOT NULL,
	port INTEGER NOT NULL DEFAULT 5061,
	transport TEXT NOT NULL DEFAULT 'tls',
	addresses TEXT NOT NULL DEFAULT '',
	auth_user TEXT,
	key_id TEXT,
	auth_box {{BLOB}},
	enabled INTEGER NOT NULL DEFAULT 1,
	settings TEXT NOT NULL DEFAULT '{}',
	created_us BIGINT NOT NULL,
	updated_us BIGINT NOT NULL
);

-- Numbers (DIDs) a tenant owns, and where inbound calls to them go.
CREATE TABLE numbers (
	id {{ID}},
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	trunk_id BIGINT REFERENCES trunks(id) ON DELETE SET NULL,
	e164 TEXT NOT NULL UNIQUE,
	destination TEXT NOT NULL DEFAULT '',
	created_us BIGINT NOT NULL,
	updated_us BIGINT NOT NULL
);

-- Provisioned phones.
CREATE TABLE devices (
	id {{ID}},
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	extension_id BIGINT REFERENCES extensions(id) ON DELETE SET NULL,
	mac TEXT NOT NULL UNIQUE,
	vendor TEXT NOT NULL,
	model TEXT NOT NULL,
	firmware_seen TEXT,
	key_id TEXT,
	admin_password_box {{BLOB}},
	last_provisioned_us BIGINT,
	created_us BIGINT NOT NULL,
	updated_us BIGINT NOT NULL
);

-- Portal users. tenant_id NULL: the provider's operators.
CREATE TABLE admins (
	id {{ID}},
	tenant_id BIGINT REFERENCES tenants(id) ON DELETE CASCADE,
	username TEXT NOT NULL UNIQUE,
	role TEXT NOT NULL CHECK (role IN ('superadmin', 'tenant_admin', 'auditor')),
	password_hash TEXT NOT NULL,
	key_id TEXT,
	totp_box {{BLOB}},
	totp_confirmed INTEGER NOT NULL DEFAULT 0,
	enabled INTEGER NOT NULL DEFAULT 1,
	created_us BIGINT NOT NULL,
	updated_us BIGINT NOT NULL,
	last_login_us BIGINT
);

-- Call records (no audio): a call and its legs (forks, transfers, trunk
-- legs), each leg with its own cost.
CREATE TABLE calls (
	id {{ID}},
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	uuid TEXT NOT NULL UNIQUE,
	node TEXT NOT NULL,
	caller TEXT NOT NULL,
	callee TEXT NOT NULL,
	direction TEXT NOT NULL CHECK (direction IN ('internal', 'inbound', 'outbound')),
	start_us BIGINT NOT NULL,
	answer_us BIGINT,
	end_us BIGINT,
	disposition TEXT,
	duration_ms BIGINT NOT NULL DEFAULT 0,
	source TEXT,
	user_agent TEXT,
	transport TEXT,
	cost_micro BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX calls_tenant_start ON calls (tenant_id, start_us);

CREATE TABLE call_legs (
	id {{ID}},
	call_id BIGINT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	leg INTEGER NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('caller', 'callee', 'fork', 'transfer', 'trunk')),
	peer TEXT NOT NULL,
	trunk_id BIGINT REFERENCES trunks(id) ON DELETE SET NULL,
	transport TEXT,
	start_us BIGINT NOT NULL,
	answer_us BIGINT,
	end_us BIGINT,
	disposition TEXT,
	cost_micro BIGINT NOT NULL DEFAULT 0,
	packets BIGINT NOT NULL DEFAULT 0,
	bytes BIGINT NOT NULL DEFAULT 0,
	lost BIGINT NOT NULL DEFAULT 0,
	jitter_us BIGINT NOT NULL DEFAULT 0,
	UNIQUE (call_id, leg)
);

-- Banned sources (an address or a prefix), shared by all nodes.
CREATE TABLE bans (
	id {{ID}},
	source TEXT NOT NULL UNIQUE,
	reason TEXT NOT NULL,
	offences INTEGER NOT NULL DEFAULT 1,
	node TEXT NOT NULL,
	created_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL
);
CREATE INDEX bans_expires ON bans (expires_us);

CREATE TABLE alerts (
	id {{ID}},
	tenant_id BIGINT REFERENCES tenants(id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
	subject TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT '',
	created_us BIGINT NOT NULL,
	sent_us BIGINT,
	acked_us BIGINT
);

-- The change log a running daemon follows: one row per changed object.
CREATE TABLE changes (
	seq {{ID}},
	at_us BIGINT NOT NULL,
	tenant_id BIGINT,
	kind TEXT NOT NULL,
	object_id BIGINT NOT NULL,
	op TEXT NOT NULL CHECK (op IN ('add', 'update', 'remove'))
);

-- Administrative actions: who, what, when, from where. Append-only.
CREATE TABLE audit_log (
	id {{ID}},
	at_us BIGINT NOT NULL,
	actor TEXT NOT NULL,
	source TEXT NOT NULL,
	tenant_id BIGINT,
	action TEXT NOT NULL,
	target TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);

--@sqlite
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
--@postgres
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
--@all
