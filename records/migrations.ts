/**
 * The schema's versions, in order: Kysely's Migrator applies the missing ones at start (records the applied
 * ones in kysely_migration) for SQLite and PostgreSQL alike. A new version is a new entry; a released one
 * never changes.
 */
import type { Kysely } from "kysely";
import type { Migration, MigrationProvider } from "kysely";

/** Milliseconds since the epoch: SQLite's INTEGER holds 64 bits, PostgreSQL's integer does not. */
const MS = "bigint";

const migrations: Record<string, Migration> = {
  "001-history": {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable("events")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("session", "text")
        .addColumn("agent", "text")
        .addColumn("at", MS, (c) => c.notNull())
        .addColumn("data", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("events_session").on("events").column("session").execute();
      await db.schema.createIndex("events_at").on("events").column("at").execute();

      await db.schema.createTable("sessions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("queue", "text", (c) => c.notNull())
        .addColumn("media", "text", (c) => c.notNull().defaultTo("chat"))
        .addColumn("customer", "text", (c) => c.notNull())
        .addColumn("seat", "text")
        .addColumn("queued_at", MS, (c) => c.notNull())
        .addColumn("assigned_at", MS)
        .addColumn("answered_at", MS)
        .addColumn("in_service_at", MS)
        .addColumn("ended_at", MS)
        .addColumn("end_reason", "text")
        .addColumn("ended_from", "text")
        .addColumn("transfers", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("score", "integer")
        .addColumn("comment", "text")
        .addColumn("form", "text", (c) => c.notNull().defaultTo("{}"))
        .execute();
      await db.schema.createIndex("sessions_queued_at").on("sessions").columns(["queued_at"]).execute();
      await db.schema.createIndex("sessions_queue_queued_at").on("sessions").columns(["queue", "queued_at"]).execute();
      await db.schema.createIndex("sessions_seat_queued_at").on("sessions").columns(["seat", "queued_at"]).execute();
      await db.schema.createIndex("sessions_customer").on("sessions").column("customer").execute();

      await db.schema.createTable("transcript")
        .addColumn("event_id", "text", (c) => c.primaryKey())
        .addColumn("session", "text", (c) => c.notNull())
        .addColumn("at", MS, (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("sender", "text")
        .addColumn("body", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("transcript_session_at").on("transcript").columns(["session", "at"]).execute();

      await db.schema.createTable("agent_states")
        .addColumn("event_id", "text", (c) => c.primaryKey())
        .addColumn("agent", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("at", MS, (c) => c.notNull())
        .execute();
      await db.schema.createIndex("agent_states_agent_at").on("agent_states").columns(["agent", "at"]).execute();

      await db.schema.createTable("erasures")
        .addColumn("customer_hash", "text", (c) => c.primaryKey())
        .addColumn("erased_at", MS, (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const t of ["erasures", "agent_states", "transcript", "sessions", "events"]) await db.schema.dropTable(t).execute();
    },
  },
  // Issue 13: the audit log, a table of its own so it has its own retention (config audit.retentionDays)
  // and erasure never touches it (it names no customer: an erasure's target is the customer's hash).
  "002-audit": {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable("audit")
        .addColumn("event_id", "text", (c) => c.primaryKey())
        .addColumn("actor", "text", (c) => c.notNull())
        .addColumn("action", "text", (c) => c.notNull())
        .addColumn("target", "text", (c) => c.notNull())
        .addColumn("detail", "text", (c) => c.notNull())
        .addColumn("at", MS, (c) => c.notNull())
        .execute();
      await db.schema.createIndex("audit_at").on("audit").column("at").execute();
      await db.schema.createIndex("audit_actor_at").on("audit").columns(["actor", "at"]).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable("audit").execute();
    },
  },
  // Issue 15: a message that shares a file keeps the file's URL, name, size and media type on its transcript line.
  "003-transcript-files": {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable("transcript").addColumn("file_url", "text").execute();
      await db.schema.alterTable("transcript").addColumn("file_name", "text").execute();
      await db.schema.alterTable("transcript").addColumn("file_size", "bigint").execute();
      await db.schema.alterTable("transcript").addColumn("file_type", "text").execute();
    },
    async down(db: Kysely<unknown>) {
      for (const c of ["file_url", "file_name", "file_size", "file_type"]) await db.schema.alterTable("transcript").dropColumn(c).execute();
    },
  },
};

export const migrationProvider: MigrationProvider = { getMigrations: async () => migrations };

/** For tests that look at the schema's version. */
export const LATEST_MIGRATION = Object.keys(migrations).at(-1)!;
