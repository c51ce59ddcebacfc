/**
 * Opens the history database: SQLite (better-sqlite3, a file in runDir, nothing to set up) by default,
 * PostgreSQL (pg) when database.url is set; brings its schema to the latest version either way.
 * Both the recorder (writes) and the component (reads for the API) open it.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { migrationProvider } from "./migrations.js";
import type { Database } from "./schema.js";

export type Dialect = "sqlite" | "postgres";

export interface History {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

// int8 (bigint: our times) comes back from pg as a string, for values past 2^53; ours are ms, well below.
pg.types.setTypeParser(20, (v: string) => Number(v));

export interface DatabaseOptions {
  /** postgres://... ; unset: SQLite at `file`. */
  url?: string;
  file: string;
}

export async function openHistory({ url, file }: DatabaseOptions): Promise<History> {
  let db: Kysely<Database>;
  let dialect: Dialect;
  if (url) {
    // A small pool: the recorder writes one batch at a time; the API's reads are few.
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000 });
    // An idle client's lost connection (the database restarting) must not crash the process.
    pool.on("error", () => undefined);
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    dialect = "postgres";
  } else {
    mkdirSync(dirname(file), { recursive: true });
    const sqlite = new SQLite(file);
    // WAL: the component reads while the recorder (another process) writes; wait out each other's locks.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.pragma("synchronous = NORMAL");
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    dialect = "sqlite";
  }
  const migrator = new Migrator({ db, provider: migrationProvider });
  for (let attempt = 1; ; attempt++) {
    const { error } = await migrator.migrateToLatest();
    if (!error) break;
    // A new SQLite file is migrated by the recorder and the component at once (npm start), and Kysely's
    // SQLite adapter takes no lock across processes: the one that loses the race fails on its first
    // statement ("table already exists") and has changed nothing. Once the other has recorded the
    // migration, trying again finds nothing to do. PostgreSQL's adapter locks, so it never gets here.
    if (dialect === "postgres" || attempt === MIGRATE_ATTEMPTS) {
      await db.destroy();
      throw error instanceof Error ? error : new Error(String(error));
    }
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
  return { db, dialect, close: () => db.destroy() };
}

/** Tries of a SQLite migration that another process may be running too (about 2 s in all). */
const MIGRATE_ATTEMPTS = 6;

/** Where the SQLite file lives for a configuration's runDir. */
export const sqliteFile = (runDir: string) => `${runDir}/records.sqlite`;
