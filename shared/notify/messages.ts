import type { Alert, AlertKind } from "../catalog/alerts";
import { code, duration, esc, num, secondsBetween, str, unmarked, when } from "./format";
import { clamp, SLACK_LIMITS } from "./limits";
import type { MessageBlock, SlackMessage } from "./ports";

/**
 * What one alert says, whatever the layout (a message of its own, or a line of a digest): what happened, to
 * which source, its state or reason, and the command that shows more. Every text here is mrkdwn, escaped.
 */
export interface AlertView {
  /** Plain text, for the header. */
  title: string;
  icon: string;
  /** What happened, in a sentence or two. */
  summary: string;
  /** Label and value pairs (source, state, last backup, …), only those the alert knows. */
  fields: [string, string][];
  /** The CLI command that shows more, or null. */
  command: string | null;
  /** One line of a digest. */
  line: string;
}

type Field = [string, string | undefined];
type ViewBuilder = (alert: Alert) => AlertView;

const known = (fields: Field[]): [string, string][] =>
  fields.filter((field): field is [string, string] => field[1] !== undefined && field[1] !== "");

const sourceOf = (alert: Alert) => str(alert.details.source) ?? alert.subject;

/** Sentence, then ` · command` — a digest line. */
const lineOf = (text: string, command: string | null) => (command ? `${text} · ${code(command)}` : text);

/** The alert's own message, escaped: what the code that raised it said. */
const said = (alert: Alert) => esc(alert.message);

/** Source health (filled by the health evaluator): last backup and its age, the expectation, proof of restorability. */
function healthFields(alert: Alert): Field[] {
  const d = alert.details;
  const lastBackupAt = str(d.lastBackupAt);
  const ageSeconds = num(d.ageSeconds) ?? num(d.age) ?? secondsBetween(lastBackupAt, alert.at);
  const age = str(d.age) ?? (ageSeconds !== undefined ? `${duration(ageSeconds)} ago` : undefined);
  const proven = d.lastProvenRestorable as Record<string, unknown> | string | null | undefined;
  const provenAt = typeof proven === "string" ? proven : str(proven?.at);
  const provenDrill = typeof proven === "object" && proven ? str(proven.drillId) : undefined;
  const rto = num(d.rtoSeconds) ?? (typeof proven === "object" && proven ? num(proven.rtoSeconds) : undefined);
  const downSince = str(d.downSince);
  const downFor = num(d.downForSeconds) ?? secondsBetween(downSince, alert.at);
  return [
    ["Source", code(sourceOf(alert))],
    ["State", str(d.state) ? `*${esc(str(d.state) as string)}*` : undefined],
    ["Last good backup", lastBackupAt ? `${when(lastBackupAt)}${age ? ` (${esc(age)})` : ""}` : undefined],
    [
      "Expected",
      str(d.expectation)
        ? `${esc(str(d.expectation) as string)}${d.expectationOrigin === "inferred" ? " (inferred from its history)" : ""}`
        : undefined,
    ],
    ["STALE from", alert.kind === "source-late" && str(d.staleAt) ? when(str(d.staleAt) as string) : undefined],
    [
      "Last proven restorable",
      provenAt
        ? `${when(provenAt)}${provenDrill ? ` (drill ${code(provenDrill)})` : ""}`
        : proven === null
          ? "never"
          : undefined,
    ],
    ["Restore time (RTO)", rto !== undefined ? duration(rto) : undefined],
    [
      alert.kind === "source-recovered" ? "Was down for" : "Down since",
      alert.kind === "source-recovered"
        ? downFor !== undefined
          ? duration(downFor)
          : str(d.downFor)
        : downSince
          ? when(downSince)
          : undefined,
    ],
  ];
}

function health(title: (source: string) => string, icon: string): ViewBuilder {
  return (alert) => {
    const fields = known(healthFields(alert));
    const byName = new Map(fields);
    const source = sourceOf(alert);
    const d = alert.details;
    const facts = [
      byName.get("Was down for") ? `down for ${byName.get("Was down for")}` : undefined,
      byName.get("Last good backup") ? `last good backup ${byName.get("Last good backup")}` : undefined,
      str(d.expectation) ? `expected ${esc(str(d.expectation) as string)}` : undefined,
    ].filter(Boolean);
    // `restorable sources list` is in the digest's context once; a line carries no command of its own.
    return {
      title: title(source),
      icon,
      summary: said(alert),
      fields,
      command: "restorable sources list",
      line: facts.length > 0 ? `${code(source)}: ${facts.join("; ")}` : `${code(source)}: ${said(alert)}`,
    };
  };
}

function drillFailed(alert: Alert): AlertView {
  const d = alert.details;
  const drillId = str(d.drillId);
  const status = str(d.status) ?? "FAILED";
  const reason = str(d.reason) ?? "no reason recorded";
  const source = sourceOf(alert);
  const command = drillId ? `restorable drill show ${drillId}` : "restorable drill list";
  return {
    title: `Restore drill ${status}: ${source}`,
    icon: status === "ERROR" ? ":warning:" : ":x:",
    summary: `A restore drill of ${code(source)} ended *${esc(status)}*: ${esc(reason)}`,
    fields: known([
      ["Source", code(source)],
      ["Drill", drillId ? code(drillId) : undefined],
      ["Result", `*${esc(status)}*`],
      ["Backup", str(d.backupId) ? code(str(d.backupId) as string) : undefined],
    ]),
    command,
    line: lineOf(`${code(source)} drill ${drillId ? code(drillId) : ""} *${esc(status)}*: ${esc(reason)}`, command),
  };
}

function setCorrupt(alert: Alert): AlertView {
  const d = alert.details;
  const setId = str(d.setId) ?? alert.subject;
  const source = sourceOf(alert);
  const reason = str(d.reason) ?? alert.message;
  const command = `restorable catalog show ${setId}`;
  return {
    title: `Backup set CORRUPT: ${source}`,
    icon: ":x:",
    summary: `Backup set ${code(setId)} of ${code(source)} is *CORRUPT*: ${esc(reason)}`,
    fields: known([
      ["Source", code(source)],
      ["Set", code(setId)],
      ["Created", str(d.createdAt) ? when(str(d.createdAt) as string) : undefined],
    ]),
    command,
    line: lineOf(`${code(source)} set ${code(setId)}: ${esc(reason)}`, command),
  };
}

function masterKeyNotHeld(alert: Alert): AlertView {
  const d = alert.details;
  const source = sourceOf(alert);
  const keyId = str(d.masterKeyId) ?? "?";
  const setId = str(d.setId);
  const command = "restorable key import --key-file <file> --key-id " + keyId;
  return {
    title: `Master key not held: ${source}`,
    icon: ":key:",
    summary:
      `Backups of ${code(source)} name master key ${code(keyId)}, which the service does not hold: their ` +
      "secrets cannot be decrypted after a restore. Import the key (or register it if it is already in the secret).",
    fields: known([
      ["Source", code(source)],
      ["Master key", code(keyId)],
      ["First set", setId ? code(setId) : undefined],
    ]),
    command,
    line: lineOf(`${code(source)} names master key ${code(keyId)}, not held`, command),
  };
}

function historyReplaced(alert: Alert): AlertView {
  const d = alert.details;
  const repository = str(d.repository);
  const setId = str(d.setId);
  const key = str(d.key);
  const command = setId
    ? `restorable catalog show ${setId}`
    : repository
      ? `restorable restic verify ${repository}`
      : "restorable alerts";
  return {
    title: repository ? `restic file overwritten: ${repository}` : `Committed backup overwritten: ${sourceOf(alert)}`,
    icon: ":rotating_light:",
    summary: said(alert),
    fields: known([
      repository ? ["Repository", code(repository)] : ["Source", code(sourceOf(alert))],
      ["Set", setId ? code(setId) : undefined],
      ["File", key ? code(key) : undefined],
      ["Written by", str(d.principal) ? code(str(d.principal) as string) : undefined],
    ]),
    command,
    line: lineOf(said(alert), command),
  };
}

function resticFileMisnamed(alert: Alert): AlertView {
  const repository = str(alert.details.repository) ?? alert.subject.replace(/^restic:/, "");
  const command = `restorable restic verify ${repository}`;
  return {
    title: `restic file with wrong bytes: ${repository}`,
    icon: ":rotating_light:",
    summary: said(alert),
    fields: known([
      ["Repository", code(repository)],
      ["File", str(alert.details.key) ? code(str(alert.details.key) as string) : undefined],
    ]),
    command,
    line: lineOf(said(alert), command),
  };
}

function retention(kind: "refused" | "failed"): ViewBuilder {
  return (alert) => {
    const source = sourceOf(alert);
    const command = `restorable retention plan --source ${source}`;
    return {
      title: `Retention ${kind}: ${source}`,
      icon: kind === "refused" ? ":no_entry:" : ":warning:",
      summary: said(alert),
      fields: known([
        ["Source", code(source)],
        ["Would remove", num(alert.details.planned) !== undefined ? String(alert.details.planned) : undefined],
        ["Would keep", num(alert.details.kept) !== undefined ? String(alert.details.kept) : undefined],
      ]),
      command,
      line: lineOf(said(alert), command),
    };
  };
}

function bucketDrift(alert: Alert): AlertView {
  const drift = Array.isArray(alert.details.drift) ? (alert.details.drift as Record<string, unknown>[]) : [];
  const settings = drift
    .map((item) => `${esc(String(item.setting ?? "?"))}${item.repaired ? " (repaired)" : ""}`)
    .join(", ");
  const command = "restorable bucket audit";
  return {
    title: `Bucket settings drifted: ${alert.subject}`,
    icon: ":warning:",
    summary: said(alert),
    fields: known([
      ["Bucket", code(alert.subject)],
      ["Settings", settings || undefined],
    ]),
    command,
    line: lineOf(said(alert), command),
  };
}

function deadLetters(alert: Alert): AlertView {
  const count = num(alert.details.count);
  const command = "restorable ingest dlq";
  return {
    title: `Ingest: ${count ?? "some"} message${count === 1 ? "" : "s"} in the dead-letter queue`,
    icon: ":inbox_tray:",
    summary: said(alert),
    fields: known([["Messages waiting", count !== undefined ? String(count) : undefined]]),
    command,
    line: lineOf(said(alert), command),
  };
}

function alarm(alert: Alert): AlertView {
  const d = alert.details;
  const state = str(d.state);
  return {
    title: str(d.function) ? `Scheduled run failed: ${str(d.function)}` : `Alarm ${state ?? ""}: ${alert.subject}`,
    icon: state === "OK" ? ":white_check_mark:" : ":rotating_light:",
    summary: said(alert),
    fields: known([
      ["Alarm", str(d.alarm) ? code(str(d.alarm) as string) : undefined],
      ["State", state ? `*${esc(state)}*` : undefined],
      ["Function", str(d.function) ? code(str(d.function) as string) : undefined],
      ["What it watches", str(d.description) ? esc(str(d.description) as string) : undefined],
    ]),
    command: "restorable alerts",
    line: said(alert),
  };
}

function test(alert: Alert): AlertView {
  return {
    title: "Test alert from restorable",
    icon: ":white_check_mark:",
    summary: said(alert),
    fields: [],
    command: "restorable alerts",
    line: said(alert),
  };
}

function other(alert: Alert): AlertView {
  return {
    title: `${alert.kind}: ${alert.subject}`,
    icon: ":bell:",
    summary: said(alert),
    fields: [],
    command: "restorable alerts",
    line: lineOf(said(alert), null),
  };
}

/** One builder per kind; a kind added later falls back to `other` until it has its own. */
const VIEWS: Record<AlertKind, ViewBuilder> = {
  "source-stale": health((s) => `Backups STALE: ${s}`, ":red_circle:"),
  "source-stale-reminder": health((s) => `Still STALE: ${s}`, ":red_circle:"),
  "source-late": health((s) => `Backup LATE: ${s}`, ":large_orange_circle:"),
  "source-recovered": health((s) => `Back to normal: ${s}`, ":large_green_circle:"),
  "drill-failed": drillFailed,
  "set-corrupt": setCorrupt,
  "master-key-not-held": masterKeyNotHeld,
  "history-replaced": historyReplaced,
  "restic-file-misnamed": resticFileMisnamed,
  "retention-refused": retention("refused"),
  "retention-failed": retention("failed"),
  "bucket-drift": bucketDrift,
  "ingest-dead-letters": deadLetters,
  alarm,
  test,
};

export function viewOf(alert: Alert): AlertView {
  return (VIEWS[alert.kind] ?? other)(alert);
}

/** The context line every message ends with. */
export function contextBlock(text: string): MessageBlock {
  return { type: "context", elements: [{ type: "mrkdwn", text: clamp(text, SLACK_LIMITS.contextText) }] };
}

export function headerBlock(text: string): MessageBlock {
  return { type: "header", text: { type: "plain_text", text: clamp(text, SLACK_LIMITS.headerText), emoji: true } };
}

/** A message of its own: header, what happened, the facts as fields, the command, and when. */
export function alertMessage(alert: Alert): SlackMessage {
  const view = viewOf(alert);
  const blocks: MessageBlock[] = [
    headerBlock(`${view.icon} ${view.title}`),
    { type: "section", text: { type: "mrkdwn", text: clamp(view.summary, SLACK_LIMITS.sectionText) } },
  ];
  const fields = view.fields.slice(0, SLACK_LIMITS.sectionFields);
  if (fields.length > 0) {
    blocks.push({
      type: "section",
      fields: fields.map(([label, value]) => ({
        type: "mrkdwn",
        text: clamp(`*${label}*\n${value}`, SLACK_LIMITS.fieldText),
      })),
    });
  }
  if (view.command) blocks.push({ type: "section", text: { type: "mrkdwn", text: `More: ${code(view.command)}` } });
  blocks.push(contextBlock(`restorable · ${code(alert.kind)} · raised ${when(alert.at)}`));
  return { text: clamp(`${esc(view.title)}: ${unmarked(view.summary)}`, SLACK_LIMITS.fallbackText), blocks };
}
