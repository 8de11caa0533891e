import type { Command } from "commander";
import { positiveInteger } from "../../context";
import { printAlerts } from "../../output/alerts";
import { printJson } from "../../output/format";
import { servicesFor } from "../../services";

export function registerAlertsList(alerts: Command): void {
  alerts
    .command("list", { isDefault: true })
    .description("Recent alerts, newest first, each with when it was sent (or that it is pending); the default")
    .option("--limit <n>", "at most this many", positiveInteger, 20)
    .option("--json", "print JSON for scripts")
    .action(listAlerts);
}

/** Newest first, each with when it was sent (or that it is pending). */
async function listAlerts(options: { limit: number; json?: boolean }, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  const alerts = await catalog.alerts.recent(options.limit);
  if (options.json) return printJson({ alerts });
  printAlerts(alerts);
}
