-- mod_switchboard_link: loaded on the Switchboard component's own host (prosody.cfg.lua.in).
--
-- Prosody reads every connection network_default_read_size bytes at a time (4 KiB), and while
-- more is buffered it pauses that connection until its next timer turn, which is at least 1 ms
-- away when nothing else is ready (net/server_epoll.lua: read_retry_delay, min_wait). A client
-- sends a few small stanzas; the component's one connection carries the stanzas of every
-- customer and agent. At the bench's routing peak about 100 KiB stood unread in that socket, so
-- every beginning message, assignment and end reached its client ~130 ms after the CTI decided
-- (docs/benchmarks.md). This module lets Prosody read the component's connection whole, as
-- much as is there, on each turn; every other connection keeps the default.

local read_size = 1024 * 1024; -- more than the component ever leaves unread: all that is there

module:hook("component-authenticated", function (event)
	local conn = event.session.conn;
	if conn and conn.set_mode then
		conn:set_mode(read_size);
		module:log("debug", "reading the component's connection up to %d bytes at a time", read_size);
	end
end);
