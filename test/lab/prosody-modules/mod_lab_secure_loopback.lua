-- Loaded only by the lab's generated configs (test/lab/prosody.ts for Prosody 0.12,
-- test/lab/prosody13.ts for Prosody 13), never by a real server.
--
-- `quiver gateway` terminates QUIC + TLS and forwards each stream as plaintext TCP to this
-- Prosody's port `lab_secure_loopback_port`. Prosody 0.12 has no `secure_interfaces` (and 13's
-- would mark every loopback peer secure, also on the STARTTLS port the lab tests), so a session
-- on that port would otherwise be told to STARTTLS (c2s_require_encryption) and refused SASL
-- (mod_saslauth: "Not offering authentication on insecure connection").
--
-- For a c2s session whose listening port is that port AND whose peer is 127.0.0.1 (or ::1), this
-- marks the session secure before mod_tls and mod_saslauth build the stream features (priority
-- above their 0), and gives it no TLS context, so mod_tls's can_do_tls() answers false: no
-- <starttls/> is offered there and a <starttls/> sent anyway fails. Every other port and every
-- other peer is left alone.

local port = module:get_option_number("lab_secure_loopback_port");
if not port then
	module:log("error", "lab_secure_loopback_port is not set: no session is treated as secure");
	return;
end

local loopback = { ["127.0.0.1"] = true, ["::1"] = true };

module:log("info", "lab: plaintext c2s sessions from loopback on port %d count as secure", port);

module:hook("stream-features", function(event)
	local session = event.origin;
	if session.type ~= "c2s_unauthed" and session.type ~= "c2s" then return; end
	local conn = session.conn;
	if not conn or tonumber(conn:serverport()) ~= port or not loopback[conn:ip()] then return; end
	if not session.secure then
		session.log("debug", "lab: plaintext session on loopback port %d treated as secure (QUIC gateway)", port);
	end
	session.secure = true;
	session.ssl_ctx = false;
end, 1000);
