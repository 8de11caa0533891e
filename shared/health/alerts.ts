import type { ProvenRestorable } from "../catalog/entry";
import { formatDuration } from "./duration";
import type { HealthDecision, HealthVerdict } from "./evaluate";
import { describeExpectation } from "./expectation";
import type { PendingAlert } from "./model";

const when = (iso: string) => iso.replace("T", " ").replace(/(:\d\d)\.\d+Z$/, "$1Z");

/** `every 24h + 2h24m grace (inferred from its history)`. */
export function expectationText(verdict: HealthVerdict): string | null {
  const { expectation } = verdict;
  if (!expectation) return null;
  const origin =
    expectation.origin === "inferred"
      ? " (inferred from its history)"
      : expectation.origin === "repository"
        ? " (its repository's)"
        : "";
  return `${describeExpectation(expectation)}${origin}`;
}

function lastBackupText(verdict: HealthVerdict): string {
  if (!verdict.lastBackup) return "no COMPLETE backup yet";
  return `last COMPLETE backup ${when(verdict.lastBackup.at)} (${formatDuration(verdict.ageSeconds ?? 0)} ago)`;
}

function provenText(proven: ProvenRestorable | null): string {
  if (!proven) return "Never proven restorable by a drill.";
  const rto = proven.rtoSeconds === null ? "" : `, restore took ${formatDuration(proven.rtoSeconds)}`;
  return `Last proven restorable ${when(proven.at)} (backup ${proven.backupId}${rto}).`;
}

/**
 * The alert a decision tells (LATE, STALE, a STALE reminder, a recovery), with the key that makes it
 * raised once: source + state + since (LATE since its due time, STALE since due + grace: the same for every
 * run), + the reminder's number for a reminder; a recovery by the time it went down. undefined when it tells
 * nothing.
 */
export function healthAlert(
  decision: HealthDecision,
  proven: ProvenRestorable | null,
  now: Date,
): PendingAlert | undefined {
  const { verdict, next, notify } = decision;
  if (!notify) return undefined;
  const source = verdict.source;
  const expected = expectationText(verdict) ?? "no expectation";
  const downSince = next.downSince ?? decision.previous?.downSince ?? null;
  const downForSeconds = downSince ? Math.max(0, Math.round((now.getTime() - Date.parse(downSince)) / 1000)) : null;
  const details = {
    source,
    state: verdict.state,
    previousState: decision.previous?.state ?? null,
    since: next.since,
    lastBackupAt: verdict.lastBackup?.at ?? null,
    lastBackupId: verdict.lastBackup?.id ?? null,
    ageSeconds: verdict.ageSeconds,
    expectation: verdict.expectation ? describeExpectation(verdict.expectation) : null,
    expectationOrigin: verdict.expectation?.origin ?? null,
    dueAt: verdict.dueAt,
    staleAt: verdict.staleAt,
    lastProvenRestorable: proven ? { at: proven.at, backupId: proven.backupId } : null,
    rtoSeconds: proven?.rtoSeconds ?? null,
    ...(downSince ? { downSince, downForSeconds } : {}),
    ...(decision.reminder ? { reminder: next.reminders } : {}),
    command: `restorable sources list`,
  };
  const base = `${lastBackupText(verdict)}; expected ${expected}`;
  const proof = provenText(proven);
  const key = `health|${source}|${next.state}|${next.since}`;
  switch (notify) {
    case "source-late":
      return {
        once: key,
        alert: {
          kind: notify,
          subject: `${source} is LATE`,
          message: `${source} is past due (${when(verdict.dueAt ?? next.since)}): ${base}. STALE after ${when(verdict.staleAt ?? next.since)}. ${proof}`,
          details,
        },
      };
    case "source-stale":
      return {
        once: key,
        alert: {
          kind: notify,
          subject: `${source} is STALE`,
          message: `${source} is past due and past its grace: ${base}. ${proof}`,
          details,
        },
      };
    case "source-stale-reminder":
      return {
        once: `${key}|reminder|${next.reminders}`,
        alert: {
          kind: notify,
          subject: `${source} is still STALE`,
          message: `${source} has been down for ${formatDuration(downForSeconds ?? 0)}: ${base}. ${proof}`,
          details,
        },
      };
    case "source-recovered":
      return {
        // One recovery per time down, whichever run (and clock) sees it.
        once: `health|${source}|UP|down-since|${downSince ?? next.since}`,
        alert: {
          kind: notify,
          subject: `${source} is back to normal`,
          message: `${source} is back to normal, down for ${formatDuration(downForSeconds ?? 0)}: ${lastBackupText(verdict)}. ${proof}`,
          details,
        },
      };
  }
}
