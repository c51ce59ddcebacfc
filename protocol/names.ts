/**
 * Names on the wire. Outside clients rely on these: change none, add freely
 * (and document additions in docs/protocol.md). Shared by the component and the
 * browser code, so this file imports nothing.
 */
export const NS = {
  /** Our own namespace (begin, assigned, in-service, end, ended, session). */
  SB: "urn:switchboard:0",
  /** XEP-0142 Workgroup Queues. */
  WG: "http://jabber.org/protocol/workgroup",
  DATA: "jabber:x:data",
  DISCO_INFO: "http://jabber.org/protocol/disco#info",
  DISCO_ITEMS: "http://jabber.org/protocol/disco#items",
  COMMANDS: "http://jabber.org/protocol/commands",
  STANZAS: "urn:ietf:params:xml:ns:xmpp-stanzas",
  PING: "urn:xmpp:ping",
  VERSION: "jabber:iq:version",
  /** XEP-0297 Stanza Forwarding: the seat module's copies of the messages it records. */
  FORWARD: "urn:xmpp:forward:0",
  /** XEP-0203 Delayed Delivery: when a forwarded message passed. */
  DELAY: "urn:xmpp:delay",
  /** XEP-0060 Publish-Subscribe: the wallboard's nodes (docs/protocol.md, "Wallboard (XEP-0060)"). */
  PUBSUB: "http://jabber.org/protocol/pubsub",
  PUBSUB_EVENT: "http://jabber.org/protocol/pubsub#event",
  PUBSUB_ERRORS: "http://jabber.org/protocol/pubsub#errors",
  /** The wallboard's payload: a queue's live figures. */
  STATS: "urn:switchboard:stats:0",
} as const;

/** XEP-0060 nodes of the wallboard on the component's domain: one per queue, and one with every queue. */
export const WALLBOARD = {
  /** The node of one queue: "queue/billing". */
  queuePrefix: "queue/",
  all: "queues",
  /** The one item of each node: the figures now. */
  item: "current",
} as const;

/** Element names in NS.SB. */
export const SB = {
  begin: "begin",
  assigned: "assigned",
  inService: "in-service",
  answered: "answered",
  end: "end",
  ended: "ended",
  session: "session",
  resume: "resume",
  feedback: "feedback",
  leaveMessage: "leave-message",
  stats: "stats",
  /** A page asks a queue for a call token (issue 11; docs/protocol.md, "Calls from a page"). */
  call: "call",
  /** The seat module's copy of a message between a seat and its customer (communication recording, issue 12). */
  record: "record",
  /**
   * Quality monitoring (issue 13; docs/protocol.md, "Quality monitoring"): the component's grant to the seat
   * module and its withdrawal, a whisper to a seat, the iqs of the console, the mark on a supervisor's words,
   * the seat module's copies to a supervisor and its notice that they stopped.
   */
  monitor: "monitor",
  unmonitor: "unmonitor",
  whisper: "whisper",
  barge: "barge",
  supervisor: "supervisor",
  monitored: "monitored",
  unmonitored: "unmonitored",
  /**
   * An expert in the conversation (issue 15; docs/protocol.md, "Invite an expert"): the mark on everything
   * about the expert (its words, its joining and leaving, the grant to the seat module), the seat module's
   * copies of the conversation to the expert, the iqs of the desk, and the component's question to the seat
   * module whether someone is logged in.
   */
  expert: "expert",
  relayed: "relayed",
  inviteExpert: "invite-expert",
  leaveSession: "leave-session",
  experts: "experts",
  online: "online",
  /** The whiteboard between a seat and its customer (issue 15; docs/protocol.md, "Whiteboard"; protocol/board.ts). */
  board: "board",
} as const;

/** Element names in NS.WG (XEP-0142). */
export const WG = {
  joinQueue: "join-queue",
  departQueue: "depart-queue",
  queueStatus: "queue-status",
  queueNotifications: "queue-notifications",
  agentStatus: "agent-status",
  offer: "offer",
  offerAccept: "offer-accept",
  offerReject: "offer-reject",
  offerRevoke: "offer-revoke",
} as const;

/** Form fields a customer may send with join-queue. */
export const JOIN_FIELDS = { name: "name", skills: "skills", subject: "subject" } as const;

/** Form fields of leave-message. */
export const MESSAGE_FIELDS = { name: "name", email: "email", message: "message" } as const;

/** XEP-0050 ad-hoc command nodes on the component. */
export const COMMAND = {
  endSession: "end-session", // agents
  endWrapUp: "end-wrap-up", // agents
  pause: "pause", // agents: not ready, with a reason
  ready: "ready", // agents: ready again (ends a pause or a wrap-up)
  transfer: "transfer", // agents: hand a session to another agent or queue
  listQueues: "list-queues", // supervisors
  listAgents: "list-agents", // supervisors
  setAgentState: "set-agent-state", // supervisors
  endAnySession: "end-any-session", // supervisors: end a chat or a call (the soft switch hangs it up)
  listSessions: "list-sessions", // supervisors: the live sessions, as a table (issue 13)
  transferSession: "transfer-session", // supervisors: move any live chat to another agent or queue
  adjustAgent: "adjust-agent", // supervisors: an agent's skills and/or capacity for the rest of the day
  monitor: "monitor", // supervisors: monitor a live chat silently (issue 13)
  whisper: "whisper", // supervisors: a word only the agent sees
  barge: "barge", // supervisors: join the conversation
  stopMonitoring: "stop-monitoring", // supervisors
  inviteExpert: "invite-expert", // agents (their session) and supervisors (their queues'): bring an expert into a chat (issue 15)
  leaveSession: "leave-session", // an expert leaves the conversation; the seat removes its expert
} as const;

/** Why a session ended, as carried by <ended reason='...'/>. */
export const END_REASONS = [
  "customer", // the customer ended it (end iq, depart-queue)
  "seat", // the agent ended it
  "customer-offline", // the customer's client went unavailable
  "seat-offline", // the agent's last client went unavailable
  "assign-timeout", // the customer did not write to the seat within the queue's assignTimeout
  "expired", // the customer waited the queue's maxWaitSeconds without being served
  "no-answer", // (to the seat only) the seat did not answer within firstResponseTimeout: the customer goes to another seat
  "transferred", // (to the seat only) the seat handed the session to another agent or queue
  "supervisor", // a supervisor or an admin ended it
  "call-failed", // a call could not reach its seat, or the soft switch lost it (a restart)
] as const;
export type EndReason = (typeof END_REASONS)[number];
