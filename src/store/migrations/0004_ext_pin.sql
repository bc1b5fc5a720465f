-- 0004_ext_pin: transport pinning. An extension that has registered over
-- TLS is refused on plain UDP and TCP until an operator resets it (`ext set
-- TENANT EXT pin=reset`). The pin is "pin": "tls" in the extension's
-- settings. The daemon writes no settings: it writes the binding of each
-- registration (store writer thread), and these triggers pin the extension
-- when that binding is a TLS one, with a change row so that every node
-- reloads the extension. Nothing happens when it is pinned already.
--@sqlite
-- The store runs with trusted_schema = OFF, where SQLite 3.40 refuses the
-- JSON functions in a trigger: the settings text is the CLI's compact JSON
-- object ("{}" or {"k":"v",...}), so the key is added as text.
CREATE TRIGGER bindings_pin_tls_insert AFTER INSERT ON bindings
WHEN NEW.transport = 'tls' AND (SELECT instr(settings, '"pin":"tls"')
	FROM extensions WHERE id = NEW.extension_id) = 0
BEGIN
	UPDATE extensions SET settings = CASE WHEN settings = '{}'
		THEN '{"pin":"tls"}'
		ELSE '{"pin":"tls",' || substr(settings, 2) END
	WHERE id = NEW.extension_id;
	INSERT INTO changes (at_us, tenant_id, kind, object_id, op)
	VALUES (NEW.updated_us, NEW.tenant_id, 'extension', NEW.extension_id, 'update');
END;
CREATE TRIGGER bindings_pin_tls_update AFTER UPDATE ON bindings
WHEN NEW.transport = 'tls' AND (SELECT instr(settings, '"pin":"tls"')
	FROM extensions WHERE id = NEW.extension_id) = 0
BEGIN
	UPDATE extensions SET settings = CASE WHEN settings = '{}'
		THEN '{"pin":"tls"}'
		ELSE '{"pin":"tls",' || substr(settings, 2) END
	WHERE id = NEW.extension_id;
	INSERT INTO changes (at_us, tenant_id, kind, object_id, op)
	VALUES (NEW.updated_us, NEW.tenant_id, 'extension', NEW.extension_id, 'update');
END;
--@postgres
CREATE FUNCTION bindings_pin_tls() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN
	IF NEW.transport = 'tls' THEN
		UPDATE extensions
		SET settings = (settings::jsonb || '{"pin": "tls"}'::jsonb)::text
		WHERE id = NEW.extension_id
		AND (settings::jsonb ->> 'pin') IS DISTINCT FROM 'tls';
		IF FOUND THEN
			INSERT INTO changes (at_us, tenant_id, kind, object_id, op)
			VALUES (NEW.updated_us, NEW.tenant_id, 'extension',
			    NEW.extension_id, 'update');
		END IF;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER bindings_pin_tls AFTER INSERT OR UPDATE ON bindings
FOR EACH ROW EXECUTE FUNCTION bindings_pin_tls();
--@all
