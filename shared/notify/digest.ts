import type { Alert, AlertKind } from "../catalog/alerts";
import { code, unmarked } from "./format";
import { clamp, SLACK_LIMITS } from "./limits";
import { contextBlock, headerBlock, viewOf } from "./messages";
import type { MessageBlock, SlackMessage } from "./ports";

/** The digest's groups, the most urgent first, each with the heading its lines go under. */
const GROUPS: [AlertKind, string][] = [
  ["drill-failed", "Restore drills that did not pass"],
  ["set-corrupt", "CORRUPT backup sets"],
  ["master-key-not-held", "Master keys not held"],
  ["history-replaced", "Committed backups overwritten"],
  ["restic-file-misnamed", "restic files with wrong bytes"],
  ["source-stale", "Backups STALE"],
  ["source-stale-reminder", "Still STALE"],
  ["source-late", "Backups LATE"],
  ["ingest-dead-letters", "Ingest dead letters"],
  ["retention-failed", "Retention failed"],
  ["retention-refused", "Retention refused"],
  ["bucket-drift", "Bucket settings drifted"],
  ["alarm", "CloudWatch alarms and failed runs"],
  ["source-recovered", "Back to normal"],
  ["test", "Tests"],
];
const ORDER = new Map(GROUPS.map(([kind], index) => [kind, index]));
const HEADING = new Map(GROUPS);

/** One digest line's length at most: one alert never takes a whole section. */
const MAX_LINE = 1000;
/** Header, summary and context around the sections of each message. */
const FRAME_BLOCKS = 3;
const MAX_SECTIONS = SLACK_LIMITS.blocksPerMessage - FRAME_BLOCKS;

export interface DigestPart {
  /** The alerts this message carries: marked sent once it is. */
  alerts: Alert[];
  message: SlackMessage;
}

interface Part {
  alerts: Alert[];
  /** Section texts: a group's heading starts its first section in each message. */
  sections: string[];
}

/**
 * Many alerts as one message: grouped by kind (the most urgent first), one line each with its command,
 * packed into sections of at most 3,000 characters. Split into several messages only when Slack's limits
 * (50 blocks) or `maxPerMessage` alerts require it; each alert is in exactly one part.
 */
export function digestMessages(alerts: Alert[], maxPerMessage = 100): DigestPart[] {
  const sorted = [...alerts].sort(
    (a, b) => (ORDER.get(a.kind) ?? GROUPS.length) - (ORDER.get(b.kind) ?? GROUPS.length) || a.at.localeCompare(b.at),
  );
  const sizes = new Map<AlertKind, number>();
  for (const alert of alerts) sizes.set(alert.kind, (sizes.get(alert.kind) ?? 0) + 1);
  const parts: Part[] = [];
  let part: Part | undefined;
  let group: AlertKind | undefined;
  for (const alert of sorted) {
    const line = `• ${clamp(viewOf(alert).line, MAX_LINE)}`;
    const heading = `*${HEADING.get(alert.kind) ?? alert.kind}*`;
    const last = part?.sections.at(-1);
    if (!part || part.alerts.length >= maxPerMessage) {
      part = { alerts: [], sections: [`${heading} (${group === alert.kind ? "continued" : sizes.get(alert.kind)})`] };
      parts.push(part);
    } else if (group !== alert.kind || (last ?? "").length + 1 + line.length > SLACK_LIMITS.sectionText) {
      const first = group !== alert.kind ? `${heading} (${sizes.get(alert.kind)})` : "";
      if (part.sections.length >= MAX_SECTIONS) {
        part = { alerts: [], sections: [first || `${heading} (continued)`] };
        parts.push(part);
      } else {
        part.sections.push(first);
      }
    }
    group = alert.kind;
    const index = part.sections.length - 1;
    part.sections[index] = part.sections[index] ? `${part.sections[index]}\n${line}` : line;
    part.alerts.push(alert);
  }
  return parts.map((p, index) => ({
    alerts: p.alerts,
    message: digestMessage(p.sections, p.alerts, index, parts.length),
  }));
}

function digestMessage(sections: string[], alerts: Alert[], index: number, parts: number): SlackMessage {
  const counts = countsOf(alerts);
  const part = parts > 1 ? ` (${index + 1}/${parts})` : "";
  const title = `${alerts.length} restorable alerts${part}`;
  const commands = [
    ...new Set(["restorable alerts", ...alerts.map((alert) => viewOf(alert).command ?? "restorable alerts")]),
  ];
  const general = commands.filter((command) => !/ (show|verify|plan) /.test(command)).slice(0, 5);
  const times = alerts.map((alert) => alert.at).sort();
  const blocks: MessageBlock[] = [
    headerBlock(`:bell: ${title}`),
    { type: "section", text: { type: "mrkdwn", text: clamp(counts, SLACK_LIMITS.sectionText) } },
    ...sections.map(
      (text): MessageBlock => ({
        type: "section",
        text: { type: "mrkdwn", text: clamp(text, SLACK_LIMITS.sectionText) },
      }),
    ),
    contextBlock(
      `raised ${times[0]?.slice(0, 16).replace("T", " ")} to ${times.at(-1)?.slice(0, 16).replace("T", " ")} UTC · more: ${general.map(code).join(" · ")}`,
    ),
  ];
  return { text: clamp(`${title}: ${unmarked(counts)}`, SLACK_LIMITS.fallbackText), blocks };
}

/** `*48* Backups STALE · *2* Restore drills that did not pass`. */
function countsOf(alerts: Alert[]): string {
  const counts = new Map<AlertKind, number>();
  for (const alert of alerts) counts.set(alert.kind, (counts.get(alert.kind) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => (ORDER.get(a) ?? GROUPS.length) - (ORDER.get(b) ?? GROUPS.length))
    .map(([kind, count]) => `*${count}* ${HEADING.get(kind) ?? kind}`)
    .join(" · ");
}
