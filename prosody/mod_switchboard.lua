-- mod_switchboard: the server-side seat module of Switchboard (docs/protocol.md).
--
-- Loaded on the agents' VirtualHost and on the guest VirtualHost. On a host with
-- seats it
--   * keeps grants: the component's <begin/> to a seat lets that customer write to it,
--     <ended/> withdraws the grant;
--   * bounces every other message to a seat, except from staff;
--   * reports the first legitimate message of a session to the component (<in-service/>);
--   * tells the component each seat's aggregate presence, and answers its probes.
-- On every host it tells the component when a customer that contacted it goes away,
-- since plain clients never send presence to the queue.

local st = require "util.stanza";
local jid_bare = require "util.jid".bare;
local jid_host = require "util.jid".host;
local jid_prep = require "util.jid".prep;
local new_id = require "util.id".short;
local new_set = require "util.set".new;
local errors = require "util.error";

local pairs, ipairs = pairs, ipairs;

local xmlns_sb = "urn:switchboard:0";

local host = module.host;
local user_sessions = prosody.hosts[host].sessions;

local component = module:get_option_string("switchboard_component");
if not component then
	error("switchboard_component is not set: the XEP-0114 component's domain, e.g. cc.example.test", 0);
end
local guest_host = module:get_option_string("switchboard_guest_host");
local example_queue = module:get_option_string("switchboard_example_queue", component);

local seats = new_set();
for _, seat in ipairs(module:get_option_array("switchboard_seats", {})) do
	seats:add(jid_prep(seat) or seat); -- nodeprep, so "Alice@..." matches stanza addresses
end
-- Other staff (supervisors): they may write to any seat, but are not seats themselves.
local staff = new_set();
for _, jid in ipairs(module:get_option_array("switchboard_staff", {})) do
	staff:add(jid_prep(jid) or jid);
end

local sb_errors = errors.init(module.name, {
	["not-assigned"] = {
		type = "cancel", condition = "forbidden",
		text = "This agent only accepts messages from the customer assigned by the contact center. "
			.."To reach an agent, write to a queue such as "..example_queue..".";
	};
});

-- seat bare JID -> customer bare JID -> { session = id, in_service = bool }.
-- Shared so that a module reload keeps the sessions in progress.
local grants = module:shared("grants");
-- seat bare JID -> last aggregate sent to the component ("show/status", show "unavailable" when offline).
local announced = {};

-- Higher is better: the seat is as available as its most available resource.
local show_rank = { chat = 5, [""] = 4, away = 3, xa = 2, dnd = 1 };

local function is_seat_session(session)
	return session.username ~= nil and seats:contains(session.username.."@"..session.host);
end

-- The seat's presence over all its resources: a show value ("" = online) or nil = unavailable,
-- and the status text of that most available resource (the reason an agent is not ready).
local function aggregate_show(username)
	local user = user_sessions[username];
	local best, best_rank, status;
	for _, session in pairs(user and user.sessions or {}) do
		if session.presence then
			local show = session.presence:get_child_text("show") or "";
			if not show_rank[show] then show = ""; end -- invalid values count as plain online
			if not best_rank or show_rank[show] > best_rank then
				best, best_rank, status = show, show_rank[show], session.presence:get_child_text("status");
			end
		end
	end
	return best, status;
end

-- Sends the seat's aggregate presence to the component (or to `to`), unless unchanged.
local function announce(username, to, force)
	local seat = username.."@"..host;
	local show, status = aggregate_show(username);
	local state = (show or "unavailable").."/"..(status or "");
	if announced[seat] == state and not force then return; end
	announced[seat] = state;
	if not show then
		grants[seat] = nil; -- a logged-out seat serves nobody
	end
	local presence = st.presence({ from = seat, to = to or component, type = show == nil and "unavailable" or nil });
	if show and show ~= "" then presence:text_tag("show", show); end
	if show and status then presence:text_tag("status", status); end
	module:log("debug", "seat %s is %s", seat, state);
	module:send(presence);
end

-- Tells the component about a session on the seat's behalf: "in-service" (the customer's first
-- message reached the seat) or "answered" (the seat's first reply reached the customer).
-- Sent at once, in the stanza flow: module:send_iq sends on the next tick (it is a promise), after
-- what the seat sends next, so the component saw a seat's <end/> before the report of the reply just
-- before it (measured: 42% of sessions in the bench, where agents end right after replying).
local report_prefix = "sb-report-";
local function report(what, seat, session_id)
	module:send(st.iq({ type = "set", from = host, to = component, id = report_prefix..new_id() })
		:tag(what, { xmlns = xmlns_sb, session = session_id, seat = seat }));
end

-- The component's replies to reports end here, so none reaches the unhandled-stanza logs.
local function handle_report_reply(event)
	local stanza = event.stanza;
	if stanza.attr.type ~= "result" and stanza.attr.type ~= "error" then return; end
	if stanza.attr.from ~= component or (stanza.attr.id or ""):sub(1, #report_prefix) ~= report_prefix then return; end
	if stanza.attr.type == "error" then
		local err_type, condition, text = stanza:get_error();
		module:log(err_type == "wait" and "debug" or "warn", "a report to the component was refused: %s (%s)", tostring(condition), tostring(text));
	end
	return true;
end

-- A message from the component to a seat: grant or withdraw.
local function handle_component_message(seat, stanza)
	local begin = stanza:get_child("begin", xmlns_sb);
	if begin and begin.attr.session and begin.attr.customer then
		local customer = jid_bare(begin.attr.customer);
		grants[seat] = grants[seat] or {};
		-- A session has one customer: a customer who resumed from a new JID takes the grant over.
		for other, grant in pairs(grants[seat]) do
			if grant.session == begin.attr.session then grants[seat][other] = nil; end
		end
		grants[seat][customer] = { session = begin.attr.session, in_service = false };
		module:log("debug", "%s may now write to %s (session %s)", customer, seat, begin.attr.session);
	end
	local ended = stanza:get_child("ended", xmlns_sb);
	if ended and ended.attr.session and grants[seat] then
		for customer, grant in pairs(grants[seat]) do
			if grant.session == ended.attr.session then
				grants[seat][customer] = nil;
				module:log("debug", "%s may no longer write to %s (session %s ended)", customer, seat, grant.session);
			end
		end
	end
end

-- The seat's check: only staff and the assigned customer reach a seat.
local function check_message_to_seat(event)
	local origin, stanza = event.origin, event.stanza;
	local to = stanza.attr.to;
	if not to then return; end -- a message to oneself
	local seat = jid_bare(to);
	if not seats:contains(seat) then return; end
	local from = stanza.attr.from or host; -- stanzas generated by the server may carry no from
	if jid_host(from) == component then
		handle_component_message(seat, stanza);
		return;
	end
	local sender = jid_bare(from);
	if sender == host or seats:contains(sender) or staff:contains(sender) then return; end -- staff

	local grant = grants[seat] and grants[seat][sender];
	if grant then
		if not grant.in_service and stanza:get_child("body") then
			grant.in_service = true;
			report("in-service", seat, grant.session);
		end
		return;
	end
	if stanza.attr.type ~= "error" then -- bouncing an error could loop
		origin.send(st.error_reply(stanza, sb_errors.new("not-assigned")));
	end
	return true;
end

-- The seat's first reply to its customer: the CTI stops the no-answer clock.
local function note_seat_reply(event)
	local origin, stanza = event.origin, event.stanza;
	if not (is_seat_session(origin) and stanza.attr.to and stanza:get_child("body")) then return; end
	local seat = origin.username.."@"..origin.host;
	local grant = grants[seat] and grants[seat][jid_bare(stanza.attr.to)];
	if grant and not grant.answered then
		grant.answered = true;
		report("answered", seat, grant.session);
	end
end

-- Probes and bounced presences from the component to a seat; neither concerns mod_presence.
local function handle_presence_from_component(event)
	local stanza = event.stanza;
	local seat, from = stanza.attr.to, stanza.attr.from;
	if not (seat and from and seats:contains(seat) and jid_host(from) == component) then return; end
	local presence_type = stanza.attr.type;
	if presence_type == "probe" then
		announce((seat:match("^[^@]+")), from, true);
		return true;
	elseif presence_type == "error" then
		-- Our own aggregate presence bounced while the component was away: it will probe on reconnect.
		return true;
	end
end

-- Runs around mod_presence's handlers, so the aggregate sees the change already applied.
local function after_seat_broadcast(handlers, event_name, event)
	local origin = event.origin;
	local broadcast = event.stanza.attr.to == nil and origin.host == host and is_seat_session(origin);
	local ret = handlers(event_name, event);
	if broadcast then announce(origin.username); end
	return ret;
end

-- Any stanza a client sends to the component's domain makes it a customer to sign out later.
local function note_contact(event)
	local origin, to = event.origin, event.stanza.attr.to;
	if to and not origin.switchboard_contacted and jid_host(to) == component and not is_seat_session(origin) then
		origin.switchboard_contacted = true;
	end
end

local function on_resource_unbind(event)
	local session = event.session;
	if is_seat_session(session) then
		-- Usually announced already via mod_presence's unavailable; this covers sessions without presence.
		announce(session.username);
	elseif session.switchboard_contacted then
		module:send(st.presence({ type = "unavailable", from = session.full_jid, to = component }));
	end
end

local seats_here = 0;
for seat in seats do
	if jid_host(seat) == host then seats_here = seats_here + 1; end
end
if host == guest_host and seats_here > 0 then
	module:log("warn", "switchboard_seats lists accounts on the anonymous host %s: they can never log in", host);
end

if seats_here > 0 then
	module:hook("message/bare", check_message_to_seat, 50); -- before mod_carbons, mod_mam, mod_message
	module:hook("message/full", check_message_to_seat, 50);
	module:hook("presence/bare", handle_presence_from_component, 50); -- before mod_presence
	module:hook("iq/host", handle_report_reply, 10); -- before mod_iq, which would find no handler for them
	module:hook("pre-message/bare", note_seat_reply, 900); -- only observes
	module:hook("pre-message/full", note_seat_reply, 900);
	module:wrap_event("presence/bare", after_seat_broadcast);
	module:log("info", "guarding %d seat(s) for component %s", seats_here, component);
end

for _, kind in ipairs({ "message", "iq", "presence" }) do
	for _, to_type in ipairs({ "bare", "full", "host" }) do
		module:hook("pre-"..kind.."/"..to_type, note_contact, 1000); -- only observes, so first
	end
end

module:hook("resource-unbind", on_resource_unbind, -10); -- after mod_presence's own unavailable
