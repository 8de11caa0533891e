import type { Alert, ListedAlert } from "../../shared/catalog/alerts";
import { printTable, shortTime } from "./format";

export function printAlerts(alerts: ListedAlert[]): void {
  if (alerts.length === 0) {
    console.log("No alerts.");
    return;
  }
  printTable(
    ["TIME", "KIND", "SUBJECT", "SENT", "MESSAGE"],
    alerts.map((a) => [shortTime(a.at), a.kind, a.subject, sentColumn(a), a.message]),
  );
}

/** When it was sent; `pending` while the notifier has not; `-` for alerts from before there was a notifier. */
function sentColumn(alert: ListedAlert): string {
  if (alert.sentAt) return shortTime(alert.sentAt);
  return alert.pending ? "pending" : "-";
}

export function printTestAlert(alert: Alert): void {
  console.log(`raised test alert ${alert.id}`);
  console.log(
    "The notifier sends it within a minute (the local stack: within seconds, to RESTORABLE_SLACK_WEBHOOK_URL or in its terminal).",
  );
  console.log("`restorable alerts` shows when it was sent; it stays pending while Slack is not connected.");
}
