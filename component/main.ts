/** The component's process: reads the config, starts, and stops cleanly on SIGINT/SIGTERM. */
import { pino } from "pino";
import { startComponent } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";

const log = pino({ level: process.env.LOG_LEVEL ?? "info" });

async function main() {
  const config = loadConfig();
  const redisUrl = process.env.SWITCHBOARD_REDIS_URL ?? config.redis.url ?? `redis://127.0.0.1:${config.ports.redis}`;
  const running = await startComponent(config, { redisUrl, log });
  log.info({ web: `http://${config.web.host}:${running.webPort}/`, component: config.component.domain }, "switchboard component running");
  const stop = () => {
    // A stop that fails (a connection already gone) still ends the process, and cleanly: nothing is left to do.
    running.stop().then(
      () => process.exit(0),
      (err: Error) => { log.warn({ err: err.message }, "stopping: some connection did not close cleanly"); process.exit(0); },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err) => {
  if (err instanceof ConfigError) console.error(err.message);
  else log.fatal({ err }, "the component could not start");
  process.exit(1);
});
