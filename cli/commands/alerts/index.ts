import type { Command } from "commander";
import { registerAlertsList } from "./list";
import { registerAlertsTest } from "./test";

/**
 * `restorable alerts` lists them (`alerts list`, the group's default, so `restorable alerts [--json]` works as
 * it always did); `restorable alerts test` raises a sample one for the notifier to send.
 */
export function registerAlerts(program: Command): void {
  const alerts = program
    .command("alerts")
    .description("Recent alerts of every kind and whether each was sent to Slack (`alerts list`, the default)");
  registerAlertsList(alerts);
  registerAlertsTest(alerts);
}
