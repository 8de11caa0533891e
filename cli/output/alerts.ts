import type { Alert } from "../../shared/catalog/alerts";
import { printTable, shortTime } from "./format";

export function printAlerts(alerts: Alert[]): void {
  if (alerts.length === 0) {
    console.log("No alerts.");
    return;
  }
  printTable(
    ["TIME", "KIND", "SUBJECT", "MESSAGE"],
    alerts.map((a) => [shortTime(a.at), a.kind, a.subject, a.message]),
  );
}
