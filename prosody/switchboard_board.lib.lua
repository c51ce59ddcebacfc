-- The whiteboard's checks for mod_switchboard (docs/protocol.md, "Whiteboard"): a board stanza is a
-- bodiless chat message with <board xmlns='urn:switchboard:0' session='S1'> holding strokes and clears.
-- The same rules and limits as protocol/board.ts (the page, the desk and the component use that file):
-- change both together. Loaded with module:require, so it runs in mod_switchboard's environment.
--
-- The seat module is where a board stanza can be checked before anyone gets it: it goes straight from
-- the customer to the seat (or back), never through the component. A stanza that breaks a rule is refused
-- with an error whose text is fixed (a reply never echoes what a client sent), and is neither delivered
-- nor recorded.

local st = require "util.stanza";
local errors = require "util.error";
local time_now = require "util.time".now;
local ipairs, tonumber, type, min = ipairs, tonumber, type, math.min;

local xmlns_sb = "urn:switchboard:0";

local LIMITS = {
	size = 10000, points = 256, ops = 8, width = 64, id = 32,
	per_session = 2000, -- strokes in a session, both parties together
	per_second = 10, burst = 20, -- board stanzas per sender and session
};
local max_points_text = LIMITS.points * 12 - 1; -- every point at its widest: "10000,10000 "

local board_errors = errors.init(module.name.."-board", {
	["board-invalid"] = {
		type = "modify", condition = "bad-request",
		text = "A whiteboard stanza is a chat message without a body; its board carries the session's id and 1-"
			..LIMITS.ops.." strokes or clears; a stroke has an id (letters, digits, - or _), a color #rrggbb, a width 1-"
			..LIMITS.width.." and 1-"..LIMITS.points.." points \"x,y\" in 0.."..LIMITS.size.." separated by spaces.";
	};
	["board-rate"] = {
		type = "wait", condition = "resource-constraint",
		text = "Too many whiteboard strokes: please slow down.";
	};
	["board-full"] = {
		type = "cancel", condition = "policy-violation",
		text = "This session's whiteboard holds the most strokes allowed ("..LIMITS.per_session..").";
	};
	["board-not-granted"] = {
		type = "cancel", condition = "forbidden",
		text = "Whiteboard strokes go only to the customer of one of your sessions.";
	};
});

-- "0", or 1-5 digits without a leading zero, at most LIMITS.size.
local function valid_coord(s)
	if s == "0" then return true; end
	return #s <= 5 and s:match("^[1-9]%d*$") ~= nil and tonumber(s) <= LIMITS.size;
end

-- How many points "x,y x,y ..." holds, or nil if it breaks a rule (single spaces only, nothing else).
local function count_points(text)
	if type(text) ~= "string" or #text < 3 or #text > max_points_text then return nil; end
	local count = 0;
	for pair in (text.." "):gmatch("(.-) ") do
		local x, y = pair:match("^(%d+),(%d+)$");
		if not (x and valid_coord(x) and valid_coord(y)) then return nil; end
		count = count + 1;
		if count > LIMITS.points then return nil; end
	end
	return count;
end

local function blank(text) return text == nil or text:match("^%s*$") ~= nil; end
local function ours(tag) return tag.attr.xmlns == nil or tag.attr.xmlns == xmlns_sb; end

local function valid_stroke(tag)
	local id, color, width = tag.attr.id, tag.attr.color, tag.attr.width;
	return #tag.tags == 0
		and type(id) == "string" and #id >= 1 and #id <= LIMITS.id and id:match("^[%w_%-]+$") ~= nil
		and type(color) == "string" and color:match("^#[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]$") ~= nil
		and type(width) == "string" and width:match("^[1-9]%d?$") ~= nil and tonumber(width) <= LIMITS.width
		and count_points(tag:get_text()) ~= nil;
end

-- How many strokes the board holds, or nil if it breaks a rule; `session` is the grant's.
local function count_strokes(board, session)
	if board.attr.session ~= session then return nil; end
	local ops, strokes = 0, 0;
	for _, child in ipairs(board) do
		if type(child) == "string" then
			if not blank(child) then return nil; end -- text between the children: whitespace only
		else
			ops = ops + 1;
			if ops > LIMITS.ops or not ours(child) then return nil; end
			if child.name == "stroke" and valid_stroke(child) then
				strokes = strokes + 1;
			elseif not (child.name == "clear" and #child.tags == 0 and blank(child:get_text())) then
				return nil;
			end
		end
	end
	if ops == 0 then return nil; end
	return strokes;
end

-- Exactly one <board/>, in a chat message without a body.
local function well_formed(stanza)
	if stanza.attr.type ~= "chat" or stanza:get_child("body") then return false; end
	local boards = 0;
	for _ in stanza:childtags("board", xmlns_sb) do boards = boards + 1; end
	return boards == 1;
end

-- A token bucket per sender and session, kept on the grant (`bucket` is its table).
local function allow(bucket)
	local now = time_now();
	local tokens = min(LIMITS.burst, (bucket.tokens or LIMITS.burst) + (now - (bucket.at or now)) * LIMITS.per_second);
	bucket.at = now;
	if tokens < 1 then bucket.tokens = tokens; return false; end
	bucket.tokens = tokens - 1;
	return true;
end

local function refuse(origin, stanza, condition)
	origin.send(st.error_reply(stanza, board_errors.new(condition)));
	return false;
end

local M = {};

-- The stanza's <board/>, when it is a board stanza to be checked (errors pass as any error does).
function M.board_of(stanza)
	if stanza.attr.type == "error" then return nil; end
	return stanza:get_child("board", xmlns_sb);
end

-- Checks a board stanza between a seat and its granted customer (`direction` "in" to the seat, "out"
-- from it); refuses it to `origin` and returns false if it breaks a rule, its sender's rate or the
-- session's limit.
function M.admit(origin, stanza, board, grant, direction)
	local strokes = well_formed(stanza) and count_strokes(board, grant.session);
	if not strokes then return refuse(origin, stanza, "board-invalid"); end
	-- A full board first: that refusal is for good, and takes no token from the sender's rate.
	if (grant.board_strokes or 0) + strokes > LIMITS.per_session then return refuse(origin, stanza, "board-full"); end
	local key = "board_"..direction;
	grant[key] = grant[key] or {};
	if not allow(grant[key]) then return refuse(origin, stanza, "board-rate"); end
	grant.board_strokes = (grant.board_strokes or 0) + strokes;
	return true;
end

-- A seat's board stanza to someone who is not its granted customer.
function M.refuse_not_granted(origin, stanza)
	return refuse(origin, stanza, "board-not-granted");
end

return M;
