-- mod_switchboard: the server-side seat module of Switchboard (docs/protocol.md).
--
-- Loaded on the agents' VirtualHost and on the guest VirtualHost. On a host with
-- seats it
--   * keeps grants: the component's <begin/> to a seat lets that customer write to it,
--     <ended/> withdraws the grant;
--   * bounces every other message to a seat, except from staff;
--   * refuses strangers' iqs to the seat's clients and every presence of theirs to the seat
--     (subscriptions, probes, directed presence): see check_iq_to_seat and check_presence_to_seat;
--   * reports the first legitimate message of a session to the component (<in-service/>);
--   * copies every chat message with a body between a seat and its granted customer to the
--     component as it passes (communication recording: see record);
--   * checks the whiteboard's stanzas between a seat and its granted customer, and records them too
--     (switchboard_board.lib.lua; strangers' are dropped like any bodiless message of theirs);
--   * keeps monitor grants (quality monitoring): the component's <monitor/> lets a supervisor get a copy
--     of every such message of one session (copy_to_monitors), until <unmonitor/>, the session's end or
--     the supervisor's going offline; and delivers the component's <whisper/> to the seat as a message
--     from the supervisor;
--   * keeps expert grants (issue 15: the seat invited another agent or a supervisor into the conversation):
--     the expert's words to the seat also reach the customer from the seat's JID, the customer's and the
--     seat's words reach the expert (see relay_expert, copy_to_expert); answers the component's <online/>;
--   * tells the component each seat's aggregate presence, and answers its probes; shows a granted customer
--     the seat's presence (directed) until the session ends;
-- On every host it tells the component when a customer that contacted it goes away,
-- since plain clients never send presence to the queue.

local st = require "util.stanza";
local jid_bare = require "util.jid".bare;
local jid_host = require "util.jid".host;
local jid_prep = require "util.jid".prep;
local jid_split = require "util.jid".split;
local time_now = require "util.time".now;
local new_id = require "util.id".short;
local new_set = require "util.set".new;
local errors = require "util.error";
local rostermanager = require "core.rostermanager";
local boards = module:require("switchboard_board"); -- the whiteboard's checks (docs/protocol.md, "Whiteboard")

local pairs, ipairs, next = pairs, ipairs, next;
local os_date, floor, format = os.date, math.floor, string.format;

local xmlns_sb = "urn:switchboard:0";
local xmlns_forward = "urn:xmpp:forward:0";
local xmlns_delay = "urn:xmpp:delay";

local host = module.host;
local user_sessions = prosody.hosts[host].sessions;
local full_sessions = prosody.full_sessions;

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
	-- Fixed texts: a refusal never echoes anything the sender sent (only the id an iq reply needs).
	["guest-contact"] = {
		type = "cancel", condition = "forbidden",
		text = "Visitors can write only to the contact center, such as "..example_queue..".";
	};
	["not-expert"] = {
		type = "cancel", condition = "forbidden",
		text = "You are not in this conversation: an agent may invite you into one as an expert.";
	};
	["not-assigned-iq"] = {
		type = "cancel", condition = "forbidden",
		text = "This agent only accepts requests from the customer assigned by the contact center. "
			.."To reach an agent, write to a queue such as "..example_queue..".";
	};
	["not-assigned-presence"] = {
		type = "cancel", condition = "forbidden",
		text = "This agent only shares presence with the customer assigned by the contact center. "
			.."To reach an agent, write to a queue such as "..example_queue..".";
	};
});

-- Several clients show a message's error only as "delivery failed" or a tooltip (Dino, Gajim, profanity):
-- the refusal's text also comes once as a plain chat message from this server, per sender and recipient.
-- Bounded: the table is forgotten when full (someone may then read the text twice).
local explained, explained_count = {}, 0;
local function explain_once(to, about, text)
	local key = jid_bare(to).." "..about;
	if explained[key] then return; end
	if explained_count >= 10000 then explained, explained_count = {}, 0; end
	explained[key], explained_count = true, explained_count + 1;
	module:send(st.message({ from = host, to = to, type = "chat", id = new_id() }):text_tag("body", text));
end

-- A refused message: an error for a message with a body (a person wrote it), explained once in a chat
-- message too; nothing for chat states, receipts and other bodiless messages (a client typing to a seat
-- would fill its window with errors), nor for errors (bouncing an error could loop).
local function refuse_message(origin, stanza, condition, about)
	if stanza.attr.type == "error" or not stanza:get_child("body") then return; end
	local err = sb_errors.new(condition);
	origin.send(st.error_reply(stanza, err));
	explain_once(stanza.attr.from or origin.full_jid, about, err.text);
end

-- seat bare JID -> customer bare JID -> { session = id, in_service = bool }.
-- Shared so that a module reload keeps the sessions in progress.
local grants = module:shared("grants");
-- seat bare JID -> full JID of a customer -> true: its directed available presence reached the seat
-- while it was granted, so its unavailable still may after the grant ended (or the seat's client
-- would show it online for ever). Shared like the grants.
local directed = module:shared("directed");
-- Quality monitoring (issue 13): seat bare JID -> session id -> supervisor bare JID -> mode ("silent" or
-- "barge"). Only the component creates them (<monitor/>), for a session granted on this seat and a
-- supervisor of switchboard_staff; withdrawn by <unmonitor/>, by the session's <ended/>, when the seat
-- logs out, and when the supervisor's last client on this host goes away. Shared like the grants.
local monitors = module:shared("monitors");

-- Withdraws the monitors of a session (all its supervisors, or one), telling each supervisor why.
local function withdraw_monitors(seat, session_id, only, why)
	local watching = monitors[seat] and monitors[seat][session_id];
	if not watching then return; end
	for supervisor in pairs(watching) do
		if not only or only == supervisor then
			watching[supervisor] = nil;
			module:log("debug", "%s no longer monitors session %s on %s", supervisor, session_id, seat);
			if why then
				module:send(st.message({ from = host, to = supervisor, type = "chat", id = new_id() })
					:text_tag("body", format("[%s] %s", session_id, why))
					:tag("unmonitored", { xmlns = xmlns_sb, session = session_id, seat = seat }):up());
			end
		end
	end
	if next(watching) == nil then monitors[seat][session_id] = nil; end
end

-- Experts in a conversation (issue 15): seat bare JID -> session id -> { jid = expert bare JID, name,
-- customer = the customer's label, seat_name }. Only the component creates them (<expert status='joined'/>
-- to the seat), for a session granted on this seat and an agent or supervisor of the configuration; withdrawn
-- by <expert status='left'/>, by the session's <ended/> and when the seat logs out. Shared like the grants.
local experts = module:shared("experts");

-- The session in which `from` is the expert on `seat`, if any.
local function expert_session(seat, from)
	local bare = jid_bare(from);
	for session_id, x in pairs(experts[seat] or {}) do
		if x.jid == bare then return session_id, x; end
	end
end

-- The grant (and customer) of a session on a seat.
local function session_grant(seat, session_id)
	for _, grant in pairs(grants[seat] or {}) do
		if grant.session == session_id then return grant; end
	end
end

-- Marks only the module may set on a message to a seat or a customer: a client's own are removed.
local function strip_marks(stanza)
	stanza:maptags(function (tag)
		if tag.attr.xmlns == xmlns_sb and (tag.name == "expert" or tag.name == "relayed") then return nil; end
		return tag;
	end);
end

-- A line to the customer from the seat's bare JID (the conversation it already has), marked <expert/>.
local function tell_customer(seat, grant, body, mark)
	module:send(st.message({ from = seat, to = grant.full, type = "chat", id = new_id() })
		:text_tag("body", body):tag("expert", mark):up());
end

-- Withdraws a session's expert; tells the customer when `tell` (not at the session's end: its closing says it).
local function withdraw_expert(seat, session_id, tell)
	local x = experts[seat] and experts[seat][session_id];
	if not x then return; end
	experts[seat][session_id] = nil;
	if next(experts[seat]) == nil then experts[seat] = nil; end
	local grant = session_grant(seat, session_id);
	if tell and grant then
		tell_customer(seat, grant, x.name.." left the conversation.", { xmlns = xmlns_sb, session = session_id, jid = x.jid, name = x.name, status = "left" });
	end
	module:log("debug", "%s is no longer the expert of session %s on %s", x.jid, session_id, seat);
end

-- seat bare JID -> last aggregate sent to the component ("show/status", show "unavailable" when offline).
local announced = {};

-- Higher is better: the seat is as available as its most available resource.
local show_rank = { chat = 5, [""] = 4, away = 3, xa = 2, dnd = 1 };

local function is_seat_session(session)
	return session.username ~= nil and seats:contains(session.username.."@"..session.host);
end

-- What the component is told of a seat whose only clients with presence have lost their connection and may
-- resume (XEP-0198, mod_smacks "hibernation"): not ready, so it is offered no new customer, yet not offline,
-- so its grants and sessions stay (the customers' messages wait in the stream's queue until it resumes).
local hibernating_show, hibernating_status = "away", "The agent's connection dropped: waiting for it to resume.";

-- The seat's presence over all its resources: a show value ("" = online) or nil = unavailable,
-- and the status text of that most available resource (the reason an agent is not ready).
-- A hibernating resource (mod_smacks sets session.hibernating) counts only when no live one has presence.
local function aggregate_show(username)
	local user = user_sessions[username];
	local best, best_rank, status, hibernating;
	for _, session in pairs(user and user.sessions or {}) do
		if session.presence and session.hibernating then
			hibernating = true;
		elseif session.presence then
			local show = session.presence:get_child_text("show") or "";
			if not show_rank[show] then show = ""; end -- invalid values count as plain online
			if not best_rank or show_rank[show] > best_rank then
				best, best_rank, status = show, show_rank[show], session.presence:get_child_text("status");
			end
		end
	end
	if not best and hibernating then return hibernating_show, hibernating_status; end
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
		experts[seat] = nil; -- and has no conversation to share
		for session_id in pairs(monitors[seat] or {}) do -- and nobody watches it serve
			withdraw_monitors(seat, session_id, nil, "The agent went offline: monitoring stopped.");
		end
		monitors[seat] = nil;
		directed[seat] = nil; -- and its clients, gone, showed nobody's presence
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

-- XEP-0082 with milliseconds (util.datetime has whole seconds): several messages a second keep their order.
local function stamp()
	local t = time_now();
	return os_date("!%Y-%m-%dT%H:%M:%S", floor(t))..format(".%03dZ", floor(t % 1 * 1000));
end

-- The XEP-0297 <forwarded/> of a message that passed now: a copy of it, with the sender it had.
local function forwarded(stanza, from)
	local original = st.clone(stanza);
	original.attr.xmlns = "jabber:client"; -- inside <forwarded/> it would otherwise take the forward namespace
	original.attr.from = original.attr.from or from;
	return st.stanza("forwarded", { xmlns = xmlns_forward })
		:tag("delay", { xmlns = xmlns_delay, stamp = stamp() }):up()
		:add_child(original);
end

-- Communication recording: a copy of a message between a seat and its granted customer goes to the
-- component, which appends it to the session's record. The module is the natural tap: it sees every
-- stanza to and from a seat, after its check, whichever client the parties use. The copy is an XEP-0297
-- forward from the server itself (so the component can trust it: no client can send from `host`), with
-- the time it passed and <record/> naming the session, the seat and the direction ("in" to the seat,
-- "out" from it). The original goes on untouched and undelayed: the copy is sent beside it, in the
-- stanza flow, like the reports (module:send, not a promise), so the records keep the messages' order.
local function record(stanza, seat, session_id, direction, from)
	module:send(st.message({ from = host, to = component, id = new_id() })
		:tag("record", { xmlns = xmlns_sb, session = session_id, seat = seat, direction = direction }):up()
		:add_child(forwarded(stanza, from)));
end

-- Quality monitoring: a copy of the same message to every supervisor the component granted a monitor of
-- this session. An XEP-0297 forward from the server (no client can send from `host`), marked with
-- <monitored/> (session, seat, direction), and a plain body "[S1] sender: text" so that any client shows it.
-- Neither party's client sees anything of it.
local function copy_to_monitors(stanza, seat, session_id, direction, from)
	local watching = monitors[seat] and monitors[seat][session_id];
	if not watching then return; end
	local body = stanza:get_child_text("body") or "";
	local sender = jid_bare(stanza.attr.from or from);
	for supervisor in pairs(watching) do
		module:send(st.message({ from = host, to = supervisor, type = "chat", id = new_id() })
			:text_tag("body", format("[%s] %s: %s", session_id, sender, body))
			:tag("monitored", { xmlns = xmlns_sb, session = session_id, seat = seat, direction = direction }):up()
			:add_child(forwarded(stanza, from)));
	end
end

-- Only what the parties said is recorded: messages with a body (not chat states, receipts, typing),
-- never errors (a bounce says nothing of the conversation, and could echo anything).
local function recordable(stanza)
	return stanza.attr.type ~= "error" and stanza:get_child("body") ~= nil;
end

-- The expert of the session gets the customer's and the seat's words from the seat's bare JID (where it
-- writes), labelled "Ann: ..." / "Alice: ..." for any client, marked <relayed/> with the XEP-0297 original.
local function copy_to_expert(stanza, seat, session_id, role, from)
	local x = experts[seat] and experts[seat][session_id];
	if not x then return; end
	local label = role == "customer" and x.customer or x.seat_name;
	module:send(st.message({ from = seat, to = x.jid, type = "chat", id = new_id() })
		:text_tag("body", format("%s: %s", label, stanza:get_child_text("body") or ""))
		:tag("relayed", { xmlns = xmlns_sb, session = session_id, role = role, name = label }):up()
		:add_child(forwarded(stanza, from)));
end

-- The expert's words to the seat: delivered to the seat marked <expert/> (the desk shows them in the
-- session), relayed to the customer from the seat's bare JID as "Bob (expert): ...", recorded (direction
-- "expert", sender the expert) and copied to the session's monitors.
local function relay_expert(stanza, seat, session_id, x, from)
	strip_marks(stanza);
	if not recordable(stanza) then return; end -- chat states and receipts stay between expert and seat
	local grant = session_grant(seat, session_id);
	local mark = { xmlns = xmlns_sb, session = session_id, jid = x.jid, name = x.name };
	if grant then tell_customer(seat, grant, format("%s (expert): %s", x.name, stanza:get_child_text("body") or ""), mark); end
	record(stanza, seat, session_id, "expert", from);
	copy_to_monitors(stanza, seat, session_id, "expert", from);
	stanza:tag("expert", mark):up();
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
-- The customer sees its agent online while they talk, with no roster subscription (issue 15): from the
-- grant to its end, each of the seat's resources' presence goes to the customer's full JID as directed
-- presence; its show only (a not-ready reason in the status text is the contact center's business).
local function send_seat_presence(from, show, unavailable, customer)
	if not (customer and jid_prep(customer)) then return; end -- a caller's sip: URI is no JID
	local p = st.presence({ from = from, to = customer, type = unavailable and "unavailable" or nil });
	if show and show ~= "" and not unavailable then p:text_tag("show", show); end
	module:send(p);
end
local function seat_presence_to(seat, customer, unavailable)
	local user = user_sessions[(jid_split(seat))];
	for _, session in pairs(user and user.sessions or {}) do
		if session.presence then send_seat_presence(session.full_jid, session.presence:get_child_text("show"), unavailable, customer); end
	end
end

local function handle_component_message(seat, stanza)
	local begin = stanza:get_child("begin", xmlns_sb);
	if begin and begin.attr.role then begin = nil; end -- an expert's invitation (issue 15) grants its customer nothing
	if begin and begin.attr.session and begin.attr.customer then
		local customer = jid_bare(begin.attr.customer);
		grants[seat] = grants[seat] or {};
		-- A session has one customer: a customer who resumed from a new JID takes the grant over.
		for other, grant in pairs(grants[seat]) do
			if grant.session == begin.attr.session then grants[seat][other] = nil; end
		end
		grants[seat][customer] = { session = begin.attr.session, in_service = false, full = begin.attr.customer };
		module:log("debug", "%s may now write to %s (session %s)", customer, seat, begin.attr.session);
		seat_presence_to(seat, begin.attr.customer);
	end
	local ended = stanza:get_child("ended", xmlns_sb);
	if ended and ended.attr.session then
		-- Before the grant goes (the customer is told through it). Moved to another seat: the customer hears
		-- the expert left; an end's closing message says it all.
		withdraw_expert(seat, ended.attr.session, ended.attr.reason == "transferred");
	end
	if ended and ended.attr.session and grants[seat] then
		for customer, grant in pairs(grants[seat]) do
			if grant.session == ended.attr.session then
				grants[seat][customer] = nil;
				seat_presence_to(seat, grant.full, true);
				module:log("debug", "%s may no longer write to %s (session %s ended)", customer, seat, grant.session);
			end
		end
	end
	if ended and ended.attr.session then
		withdraw_monitors(seat, ended.attr.session, nil, ended.attr.reason == "transferred"
			and "The session was transferred to another seat: monitoring stopped." or "The session has ended: monitoring stopped.");
	end
	-- An expert joins or leaves (issue 15): applied here, the customer is told from the seat's JID, and the
	-- message goes on to the seat's clients as its notice (a bodiless one, restoring a grant after a restart,
	-- shows nothing there, as a re-sent <begin/> does).
	local expert = stanza:get_child("expert", xmlns_sb);
	if expert and expert.attr.session then
		local session_id, who = expert.attr.session, jid_prep(expert.attr.jid or "");
		local grant = session_grant(seat, session_id);
		if expert.attr.status == "joined" then
			if grant and who and who ~= seat and (seats:contains(who) or staff:contains(who)) then
				local known = experts[seat] and experts[seat][session_id];
				experts[seat] = experts[seat] or {};
				experts[seat][session_id] = { jid = who, name = expert.attr.name or who,
					customer = expert.attr["customer-name"] or jid_bare(grant.full), seat_name = expert.attr["seat-name"] or seat };
				if stanza:get_child("body") and not (known and known.jid == who) then
					tell_customer(seat, grant, experts[seat][session_id].name.." joined the conversation.",
						{ xmlns = xmlns_sb, session = session_id, jid = who, name = experts[seat][session_id].name, status = "joined" });
				end
				module:log("debug", "%s is the expert of session %s on %s", who, session_id, seat);
			else
				module:log("warn", "refused an expert for session %s on %s: %s", tostring(session_id), seat, tostring(expert.attr.jid));
			end
		elseif expert.attr.status == "left" then
			withdraw_expert(seat, session_id, true);
		end
	end
	-- Quality monitoring (consumed here: the seat's client never sees a grant or its withdrawal).
	local monitor = stanza:get_child("monitor", xmlns_sb);
	if monitor then
		local session_id, supervisor = monitor.attr.session, jid_prep(monitor.attr.supervisor or "");
		local granted = false;
		for _, grant in pairs(grants[seat] or {}) do
			if grant.session == session_id then granted = true; end
		end
		-- Only for a session this seat serves now, and only to a supervisor of the configuration.
		if granted and supervisor and staff:contains(supervisor) then
			monitors[seat] = monitors[seat] or {};
			monitors[seat][session_id] = monitors[seat][session_id] or {};
			monitors[seat][session_id][supervisor] = monitor.attr.mode == "barge" and "barge" or "silent";
			module:log("debug", "%s monitors session %s on %s (%s)", supervisor, session_id, seat, monitors[seat][session_id][supervisor]);
		else
			module:log("warn", "refused a monitor of session %s on %s for %s", tostring(session_id), seat, tostring(supervisor));
		end
		return true;
	end
	local unmonitor = stanza:get_child("unmonitor", xmlns_sb);
	if unmonitor then
		local supervisor = jid_prep(unmonitor.attr.supervisor or "");
		if supervisor and unmonitor.attr.session then
			withdraw_monitors(seat, unmonitor.attr.session, supervisor);
		elseif supervisor then -- every session of this seat the supervisor monitors
			for session_id in pairs(monitors[seat] or {}) do withdraw_monitors(seat, session_id, supervisor); end
		end
		return true;
	end
	-- A whisper: delivered to the seat as a message from the supervisor, marked <whisper/>. The customer
	-- never sees it (it goes to the seat only).
	local whisper = stanza:get_child("whisper", xmlns_sb);
	if whisper then
		local supervisor = jid_prep(whisper.attr.supervisor or "");
		if not (supervisor and staff:contains(supervisor) and stanza:get_child("body")) then
			module:log("warn", "refused a whisper to %s for %s", seat, tostring(whisper.attr.supervisor));
			return true;
		end
		stanza.attr.from = supervisor;
		whisper.attr.supervisor = nil;
	end
end

-- Staff: the seat's own server, every seat (the seat's own other resources too), the supervisors,
-- and the contact center (its domain and its queue JIDs).
local function is_staff(jid)
	local bare = jid_bare(jid);
	return bare == host or seats:contains(bare) or staff:contains(bare) or jid_host(jid) == component;
end

-- The grant of `seat` to the sender `from`, if any (by bare JID, as the beginning message names it).
local function grant_of(seat, from)
	return grants[seat] and grants[seat][jid_bare(from)];
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
		return handle_component_message(seat, stanza); -- true: consumed (a monitor grant)
	end
	local session_id, x = expert_session(seat, from);
	if session_id then return relay_expert(stanza, seat, session_id, x, from); end
	if is_staff(from) then
		-- Staff may always write to a seat; but words marked for a conversation (<session/>, as the desk of an
		-- expert marks them) from someone not (or no longer) in it are refused: they would reach nobody.
		local marked = stanza:get_child("session", xmlns_sb);
		if marked and jid_bare(from) ~= seat and jid_bare(from) ~= host and jid_host(from) ~= component then
			refuse_message(origin, stanza, "not-expert", seat);
			return true;
		end
		return;
	end

	local grant = grant_of(seat, from);
	if grant then
		-- A whisper mark means "from a supervisor" to the desk: never in a customer's message.
		if stanza:get_child("whisper", xmlns_sb) then
			stanza:maptags(function (tag)
				if tag.name == "whisper" and tag.attr.xmlns == xmlns_sb then return nil; end
				return tag;
			end);
		end
		strip_marks(stanza); -- <expert/> and <relayed/> mean "from the module" to the desk
		local board = boards.board_of(stanza);
		if board then
			if not boards.admit(origin, stanza, board, grant, "in") then return true; end
			record(stanza, seat, grant.session, "in", from);
			return;
		end
		if not grant.in_service and stanza:get_child("body") then
			grant.in_service = true;
			report("in-service", seat, grant.session);
		end
		if recordable(stanza) then
			record(stanza, seat, grant.session, "in", from);
			copy_to_monitors(stanza, seat, grant.session, "in", from);
			copy_to_expert(stanza, seat, grant.session, "customer", from);
		end
		return;
	end
	refuse_message(origin, stanza, "not-assigned", seat);
	return true;
end

-- The seat's first reply to its customer: the CTI stops the no-answer clock. Every reply with a body
-- to the granted customer is recorded.
local function note_seat_reply(event)
	local origin, stanza = event.origin, event.stanza;
	if not (is_seat_session(origin) and stanza.attr.to and stanza:get_child("body")) then return; end
	local seat = origin.username.."@"..origin.host;
	local grant = grants[seat] and grants[seat][jid_bare(stanza.attr.to)];
	if not grant then return; end
	if not grant.answered then
		grant.answered = true;
		report("answered", seat, grant.session);
	end
	if recordable(stanza) then
		record(stanza, seat, grant.session, "out", origin.full_jid);
		copy_to_monitors(stanza, seat, grant.session, "out", origin.full_jid);
		copy_to_expert(stanza, seat, grant.session, "seat", origin.full_jid);
	end
end

-- A seat's whiteboard stanza: only to the customer of one of its sessions, checked and recorded.
local function check_seat_board(event)
	local origin, stanza = event.origin, event.stanza;
	local board = stanza.attr.to and boards.board_of(stanza);
	if not (board and is_seat_session(origin)) then return; end
	local seat = origin.username.."@"..origin.host;
	local grant = grants[seat] and grants[seat][jid_bare(stanza.attr.to)];
	if not grant then boards.refuse_not_granted(origin, stanza); return true; end
	if not boards.admit(origin, stanza, board, grant, "out") then return true; end
	record(stanza, seat, grant.session, "out", origin.full_jid);
end

-- iqs. Those to a seat's bare JID are left alone: Prosody answers them itself on the user's behalf
-- (disco, ping, and whatever other modules a deployment adds, such as vCards), and delivers none to
-- the agent's clients, unhandled ones get service-unavailable from the server; the agent's public
-- account data is no secret, and refusing them would tell nothing more than "write to a queue".
-- Those to a full JID reach one of the agent's clients: a get or set from a stranger (not staff,
-- not the granted customer) is refused with forbidden; a result or error is dropped without a
-- reply (answering one could loop), unless it answers a request that very client sent to that JID
-- (the agent's client asking a file-upload service, a proxy, or anyone else: the seat chose to ask).

-- A seat's requests still owed a reply, per client session: "to id" -> true, [0] = how many.
-- Bounded: past max_owed (a client whose requests are never answered), the oldest are forgotten
-- wholesale, and a reply to one of those is dropped like any stranger's.
local max_owed = 128;

-- A seat's client sends an iq get/set to someone who is not staff: its reply may come back.
local function note_seat_request(event)
	local origin, stanza = event.origin, event.stanza;
	local to, iq_type = stanza.attr.to, stanza.attr.type;
	if not to or (iq_type ~= "get" and iq_type ~= "set") or not is_seat_session(origin) or is_staff(to) then return; end
	local owed = origin.switchboard_owed;
	if not owed or owed[0] >= max_owed then
		owed = { [0] = 0 };
		origin.switchboard_owed = owed;
	end
	local key = to.." "..(stanza.attr.id or "");
	if not owed[key] then
		owed[key] = true;
		owed[0] = owed[0] + 1;
	end
end

local function check_iq_to_seat(event)
	local origin, stanza = event.origin, event.stanza;
	local to = stanza.attr.to;
	if not seats:contains(jid_bare(to)) then return; end
	local from = stanza.attr.from or host;
	if is_staff(from) or grant_of(jid_bare(to), from) then return; end
	local iq_type = stanza.attr.type;
	if iq_type == "get" or iq_type == "set" then
		origin.send(st.error_reply(stanza, sb_errors.new("not-assigned-iq")));
		return true;
	end
	local session = full_sessions[to];
	local owed = session and session.switchboard_owed;
	local key = from.." "..(stanza.attr.id or "");
	if owed and owed[key] then -- the answer to this client's own request
		owed[key] = nil;
		owed[0] = owed[0] - 1;
		return;
	end
	module:log("debug", "dropped an unsolicited iq %s from %s to seat %s", tostring(iq_type), from, to);
	return true;
end

-- Presence to a seat, bare or full JID. From a stranger none reaches the agent's clients, nor the
-- seat's roster or presence: not subscribe, subscribed, unsubscribe, unsubscribed, probe, nor
-- directed available or unavailable presence. Those that ask something (subscribe, probe,
-- directed presence, anything invalid) get forbidden; subscribed, unsubscribe and unsubscribed only
-- answer or withdraw about the sender's own roster, as RFC 6121 lets a server ignore them silently
-- when nothing is pending, and errors are never answered (loops). Staff, the component (its probes
-- and bounces go on to handle_presence_from_component), the seat's own broadcasts (no `to`) and the
-- granted customer pass to mod_presence untouched.
local silent_presence = { error = true, subscribed = true, unsubscribe = true, unsubscribed = true };
local function check_presence_to_seat(event)
	local origin, stanza = event.origin, event.stanza;
	local to = stanza.attr.to;
	if not to then return; end -- the seat's own presence broadcast
	local seat = jid_bare(to);
	if not seats:contains(seat) then return; end
	local from = stanza.attr.from or host;
	if is_staff(from) then return; end
	local presence_type = stanza.attr.type;
	if grant_of(seat, from) then
		if presence_type == nil then
			directed[seat] = directed[seat] or {};
			directed[seat][from] = true;
		elseif presence_type == "unavailable" and directed[seat] then
			directed[seat][from] = nil;
		end
		return;
	end
	if presence_type == "unavailable" and directed[seat] and directed[seat][from] then
		directed[seat][from] = nil; -- a former customer leaves: the end of a presence the seat was shown
		return;
	end
	if presence_type == "unsubscribe" or presence_type == "unsubscribed" then
		-- Roster state left from before the seat was guarded (or set by an admin) only loosens here:
		-- apply it, as mod_presence would, so the seat stops sharing presence with this stranger,
		-- with the roster push to the agent's clients but without the stanza itself.
		local username, contact = seat:match("^[^@]+"), jid_bare(from);
		local changed;
		if presence_type == "unsubscribe" then
			changed = rostermanager.process_inbound_unsubscribe(username, host, contact);
		else
			changed = rostermanager.process_inbound_subscription_cancellation(username, host, contact);
		end
		if changed then rostermanager.roster_push(username, host, contact); end
	end
	if not silent_presence[presence_type] then
		origin.send(st.error_reply(stanza, sb_errors.new("not-assigned-presence")));
	end
	if origin.directed then
		-- mod_presence noted the refused presence on the sender's session; forget it, or the
		-- sender's going offline would send the seat an unavailable to refuse again.
		origin.directed[to] = nil;
	end
	module:log("debug", "refused a presence %s from %s to seat %s", presence_type or "available", from, to);
	return true;
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
	if broadcast then
		announce(origin.username);
		-- The granted customers see this resource's change too (seat_presence_to).
		local unavailable = event.stanza.attr.type == "unavailable";
		for _, grant in pairs(grants[origin.username.."@"..origin.host] or {}) do
			send_seat_presence(origin.full_jid, event.stanza:get_child_text("show"), unavailable, grant.full);
		end
	end
	return ret;
end

-- The component asks whether someone has a client logged in here (issue 15: an expert must be online to be
-- invited): <iq type='get'><online xmlns='SB' jid/></iq> -> <online jid available='true|false'/>, or with
-- <item jid/> children (up to 200) an <item jid available/> for each. Only the
-- component may ask; anyone else gets forbidden (who is online is nobody else's business).
local function handle_online_query(event)
	local origin, stanza = event.origin, event.stanza;
	if jid_host(stanza.attr.from or "") ~= component or jid_split(stanza.attr.from or "") then
		origin.send(st.error_reply(stanza, "auth", "forbidden", "Only the contact center may ask this."));
		return true;
	end
	local query = stanza.tags[1];
	local function available(jid)
		local node, who_host = jid_split(jid or "");
		local user = who_host == host and node and user_sessions[node];
		for _, session in pairs(user and user.sessions or {}) do
			if session.presence and session.presence.attr.type == nil and not session.hibernating then return "true"; end
		end
		return "false";
	end
	local who = jid_prep(query.attr.jid or "");
	local reply = st.reply(stanza):tag("online", { xmlns = xmlns_sb, jid = who, available = who and available(who) or nil });
	-- Or several at once (<item jid/>, at most 200: the desk's list of who may be invited).
	local asked = 0;
	for item in query:childtags("item") do
		asked = asked + 1;
		if asked > 200 then break; end
		local jid = jid_prep(item.attr.jid or "");
		reply:tag("item", { jid = jid or "", available = jid and available(jid) or "false" }):up();
	end
	origin.send(reply);
	return true;
end

-- Any stanza a client sends to the component's domain makes it a customer to sign out later.
local function note_contact(event)
	local origin, to = event.origin, event.stanza.attr.to;
	if to and not origin.switchboard_contacted and jid_host(to) == component and not is_seat_session(origin) then
		origin.switchboard_contacted = true;
	end
end

-- A supervisor's last client on this host is gone: it monitors nothing any more.
local function drop_monitors_of(supervisor)
	for seat, sessions in pairs(monitors) do
		for session_id in pairs(sessions) do withdraw_monitors(seat, session_id, supervisor); end
		if next(sessions) == nil then monitors[seat] = nil; end
	end
end

-- mod_smacks: a seat's client lost its connection without closing its stream ("smacks-hibernation-start",
-- session.hibernating set), or resumed it ("smacks-hibernation-end": event.resumed is the seat's session,
-- no longer hibernating). Either changes the aggregate; expiry destroys the session (on_resource_unbind).
local function on_hibernation(event)
	local session = event.resumed or event.origin;
	if session.host == host and is_seat_session(session) then announce(session.username); end
end

local function on_resource_unbind(event)
	local session = event.session;
	if session.username and session.host == host and staff:contains(session.username.."@"..host) then
		local user = user_sessions[session.username];
		if not (user and user.sessions and next(user.sessions)) then drop_monitors_of(session.username.."@"..host); end
	end
	if is_seat_session(session) then
		-- Usually announced already via mod_presence's unavailable; this covers sessions without presence.
		announce(session.username);
	elseif session.switchboard_contacted then
		module:send(st.presence({ type = "unavailable", from = session.full_jid, to = component }));
	end
end

-- Anonymous visitors may write only to the contact center: the component and its queues, the seats
-- (where the seat's check decides), servers and services (no local part), and themselves. Nobody can
-- be disturbed by a visitor they never dealt with: not registered customers, not supervisors.
local function check_from_guest(event)
	local origin, stanza = event.origin, event.stanza;
	local to = stanza.attr.to;
	if origin.type ~= "c2s" or origin.host ~= guest_host or not to then return; end
	local node, to_host = jid_split(to);
	if not node or to_host == component or seats:contains(jid_bare(to)) or jid_bare(to) == jid_bare(origin.full_jid or "") then return; end
	-- Refuse aloud what asks something; drop errors, iq results and presence answers quietly.
	local stanza_type = stanza.attr.type;
	local asks;
	if stanza.name == "presence" then
		asks = stanza_type == nil or stanza_type == "subscribe" or stanza_type == "probe";
	else
		asks = stanza_type ~= "error" and stanza_type ~= "result";
	end
	if stanza.name == "message" then
		refuse_message(origin, stanza, "guest-contact", jid_bare(to));
	elseif asks then
		origin.send(st.error_reply(stanza, sb_errors.new("guest-contact")));
	end
	return true;
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
	module:hook("iq/full", check_iq_to_seat, 50); -- before mod_iq
	module:hook("presence/bare", handle_presence_from_component, 50); -- before mod_presence
	module:hook("presence/bare", check_presence_to_seat, 40); -- after the component's, before mod_presence
	module:hook("presence/full", check_presence_to_seat, 40);
	module:hook("iq/host", handle_report_reply, 10); -- before mod_iq, which would find no handler for them
	module:hook("iq-get/host/"..xmlns_sb..":online", handle_online_query);
	module:hook("pre-message/bare", note_seat_reply, 900); -- only observes
	module:hook("pre-message/full", note_seat_reply, 900);
	module:hook("pre-message/bare", check_seat_board, 901); -- may refuse, so before the observers
	module:hook("pre-message/full", check_seat_board, 901);
	for _, to_type in ipairs({ "bare", "full", "host" }) do
		module:hook("pre-iq/"..to_type, note_seat_request, 900); -- only observes
	end
	module:wrap_event("presence/bare", after_seat_broadcast);
	module:hook("smacks-hibernation-start", on_hibernation);
	module:hook("smacks-hibernation-end", on_hibernation);
	module:log("info", "guarding %d seat(s) for component %s", seats_here, component);
end

for _, kind in ipairs({ "message", "iq", "presence" }) do
	for _, to_type in ipairs({ "bare", "full", "host" }) do
		module:hook("pre-"..kind.."/"..to_type, note_contact, 1000); -- only observes, so first
	end
	if host == guest_host then
		module:hook("pre-"..kind.."/bare", check_from_guest, 900);
		module:hook("pre-"..kind.."/full", check_from_guest, 900);
	end
end

module:hook("resource-unbind", on_resource_unbind, -10); -- after mod_presence's own unavailable
