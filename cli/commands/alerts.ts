import type { Command } from "commander";
import { positiveInteger } from "../context";
import { printAlerts } from "../output/alerts";
import { printJson } from "../output/format";
import { servicesFor } from "../services";

export function registerAlerts(program: Command): void {
  program
    .command("alerts")
    .description("Recent alerts: refused retention runs, failed runs, bucket settings that drifted")
    .option("--limit <n>", "at most this many", positiveInteger, 20)
    .option("--json", "print JSON for scripts")
    .action(alerts);
}

async function alerts(options: { limit: number; json?: boolean }, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  const alerts = await catalog.alerts.recent(options.limit);
  if (options.json) return printJson({ alerts });
  printAlerts(alerts);
}
