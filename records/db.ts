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
  const dialect: Dialect = url ? "postgres" : "sqlite";
  for (let attempt = 1; ; attempt++) {
    let db: Kysely<Database> | undefined;
    try {
      const opened = url ? postgres(url) : sqlite(file);
      db = opened; // closed below if this try fails
      const { error } = await new Migrator({ db: opened, provider: migrationProvider }).migrateToLatest();
      if (error) throw error;
      return { db: opened, dialect, close: () => opened.destroy() };
    } catch (error) {
      await db?.destroy();
      // A new SQLite file is opened by the recorder and the component at once (npm start), and SQLite
      // takes no lock across processes for what must happen once: the one that loses the race fails
      // ("database is locked" turning the file to WAL, "table already exists" migrating) and has changed
      // nothing. Once the other is done, trying again finds nothing to do. PostgreSQL's migrator locks,
      // so a failure there is real.
      if (dialect === "postgres" || attempt === OPEN_ATTEMPTS) throw error instanceof Error ? error : new Error(String(error));
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

function postgres(url: string): Kysely<Database> {
  // A small pool: the recorder writes one batch at a time; the API's reads are few.
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000 });
  // An idle client's lost connection (the database restarting) must not crash the process.
  pool.on("error", () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

function sqlite(file: string): Kysely<Database> {
  mkdirSync(dirname(file), { recursive: true });
  const database = new SQLite(file);
  try {
    // WAL: the component reads while the recorder (another process) writes; wait out each other's locks.
    // Turning a new file to WAL takes an exclusive lock that SQLite does not wait for when another
    // process is doing the same (it would deadlock): SQLITE_BUSY at once, and openHistory tries again.
    database.pragma("journal_mode = WAL");
    database.pragma("busy_timeout = 5000");
    database.pragma("synchronous = NORMAL");
  } catch (error) {
    database.close();
    throw error;
  }
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
}

/** Tries of opening a SQLite file that another process may be opening too (about 2 s in all). */
const OPEN_ATTEMPTS = 6;

/** Where the SQLite file lives for a configuration's runDir. */
export const sqliteFile = (runDir: string) => `${runDir}/records.sqlite`;
