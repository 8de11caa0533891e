import { hostname, userInfo } from "node:os";
import type { Command } from "commander";
import { printTestAlert } from "../../output/alerts";
import { printJson } from "../../output/format";
import { servicesFor } from "../../services";

export const TEST_ALERT_MESSAGE = "Slack is connected: this is a test from restorable";

export function registerAlertsTest(alerts: Command): void {
  alerts
    .command("test")
    .description("Raise a test alert, which the notifier sends to Slack like any other (locally: within seconds)")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nThe notifier runs every minute (the local stack: every 3 seconds); `restorable alerts` shows when it was sent.",
    )
    .action(raiseTestAlert);
}

async function raiseTestAlert(options: { json?: boolean }, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  const alert = await catalog.alerts.raise(
    { kind: "test", subject: "slack", message: TEST_ALERT_MESSAGE, details: { requestedBy: requester() } },
    new Date(),
  );
  if (options.json) return printJson({ alert });
  printTestAlert(alert);
}

function requester(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return hostname();
  }
}
