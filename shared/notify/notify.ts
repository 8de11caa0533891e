import { randomUUID } from "node:crypto";
import type { Alert, AlertStore } from "../catalog/alerts";
import type { Log } from "../log";
import { digestMessages } from "./digest";
import { alertMessage } from "./messages";
import { SendError, type Sender, type SlackMessage } from "./ports";
import { scrubText } from "./scrub";

/** Claims written in parallel: a run's 500 alerts are claimed in a second or two, still oldest first. */
const CLAIMS_AT_ONCE = 25;

export interface NotifyDependencies {
  alerts: Pick<AlertStore, "pending" | "claim" | "markSent" | "release">;
  sender: Sender;
  now: () => Date;
  log: Log;
  /** Alerts in one digest message at most; Slack's limits (50 blocks) may split sooner. */
  maxPerMessage?: number;
  /** Up to this many alerts in a run, each is a message of its own; more become one digest. */
  individuallyUpTo?: number;
  /** Pending alerts taken in one run (the oldest); the rest wait for the next. */
  batch?: number;
  /** Who claims (a run's id); claims by anyone else are respected until they expire. */
  owner?: string;
  /** How long a claim holds: longer than a run can last (the Lambda's timeout), so runs never overlap on one alert. */
  claimMs?: number;
  /** Whether there is still time for one more message (with its retries) before the run is cut off. */
  timeLeft?: () => boolean;
}

export interface NotifyReport {
  /** Pending alerts this run found. */
  pending: number;
  /** Alerts sent and marked. */
  sent: number;
  messages: number;
  /** Why the run stopped sending, or null: its alerts stay pending. */
  failure: string | null;
}

/**
 * Sends the pending alerts, oldest first: a few (≤ 3) one message each, more as one digest (split only as
 * Slack's limits require). Each alert is claimed before its message goes and marked sent right after, so:
 * - a failed send (Slack down, rate limited past the budget, a refusal) loses nothing: the claims are given
 *   back, the alerts stay pending, and the next run tries again; the run stops at the first failure;
 * - two runs never send one alert: a claim is a conditional write, held longer than a run can last;
 * - the one window left: the run dies after Slack accepted a message and before its alerts were marked
 *   (a crash, the Lambda's timeout in those milliseconds). Once the claim expires the next run sends them
 *   again: a duplicate, never a loss. Marking right after each message, not at the end of the run, keeps
 *   that window to one message's worth of DynamoDB writes.
 */
export async function notifyPending(deps: NotifyDependencies): Promise<NotifyReport> {
  const owner = deps.owner ?? randomUUID();
  const pending = await deps.alerts.pending(deps.batch ?? 500);
  const report: NotifyReport = { pending: pending.length, sent: 0, messages: 0, failure: null };
  if (pending.length === 0) return report;
  const until = new Date(deps.now().getTime() + (deps.claimMs ?? 5 * 60_000));
  const claimed: Alert[] = [];
  for (let start = 0; start < pending.length; start += CLAIMS_AT_ONCE) {
    const slice = pending.slice(start, start + CLAIMS_AT_ONCE);
    const taken = await Promise.all(slice.map((alert) => deps.alerts.claim(alert.id, owner, until, deps.now())));
    claimed.push(...slice.filter((_, index) => taken[index]));
  }
  const unsent = new Set(claimed.map((alert) => alert.id));
  try {
    for (const part of plan(claimed, deps)) {
      if (deps.timeLeft && !deps.timeLeft()) {
        report.failure = "the run's time is up; the rest waits for the next run";
        break;
      }
      const failure = await sendOne(part.message, deps);
      if (failure) {
        report.failure = failure;
        break;
      }
      report.messages++;
      for (const alert of part.alerts) {
        unsent.delete(alert.id);
        report.sent++;
        if (!(await deps.alerts.markSent(alert.id, owner, deps.now()))) {
          deps.log.warn("an alert was sent after its claim had lapsed: another run may send it too", {
            alertId: alert.id,
          });
        }
      }
    }
  } finally {
    // Given back at once, so the next run need not wait for the claims to expire.
    await Promise.all([...unsent].map((id) => deps.alerts.release(id, owner).catch(() => undefined)));
  }
  return report;
}

/** The messages for the claimed alerts, each with the alerts it carries. */
function plan(alerts: Alert[], deps: NotifyDependencies): { alerts: Alert[]; message: SlackMessage }[] {
  if (alerts.length <= (deps.individuallyUpTo ?? 3)) {
    return alerts.map((alert) => ({ alerts: [alert], message: alertMessage(alert) }));
  }
  return digestMessages(alerts, deps.maxPerMessage ?? 100);
}

/** undefined when sent; otherwise why not (logged, with nothing of the destination in it). */
async function sendOne(message: SlackMessage, deps: NotifyDependencies): Promise<string | undefined> {
  try {
    await deps.sender.send(message);
    return undefined;
  } catch (error) {
    const reason = scrubText(error instanceof SendError ? error.message : `${(error as Error)?.name ?? "error"}`);
    deps.log.error("a message was not sent; its alerts stay pending", {
      sender: deps.sender.name,
      status: error instanceof SendError ? error.status : null,
      retryable: error instanceof SendError ? error.retryable : null,
      reason,
    });
    return reason;
  }
}
