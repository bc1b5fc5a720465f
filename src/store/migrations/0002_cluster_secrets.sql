-- 0002_cluster_secrets: secrets every node of a deployment shares, sealed
-- (secretbox) under secret.key like the SIP passwords. The first is the
-- key of the digest nonces' HMAC, so a nonce issued by one node verifies
-- on every node.
CREATE TABLE cluster_secrets (
	name TEXT PRIMARY KEY,
	key_id TEXT NOT NULL,
	box {{BLOB}} NOT NULL,
	created_us BIGINT NOT NULL
);
