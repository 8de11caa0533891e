import { styleText } from "node:util";
import type { DrillStatus } from "../../shared/catalog/entry";
import { formatDuration } from "../../shared/health/duration";
import { describeExpectation } from "../../shared/health/expectation";
import type { HealthState } from "../../shared/health/model";
import type { HealthRunReport, SourceHealthResult } from "../../shared/health/run";
import { shortTime } from "./format";

type Style = Parameters<typeof styleText>[0];

const STATE_STYLES: Record<HealthState, Style> = {
  UP: "green",
  NEW: "cyan",
  LATE: "yellow",
  STALE: ["red", "bold"],
  PAUSED: "gray",
};
const DRILL_STYLES: Record<DrillStatus, Style> = { PASSED: "green", FAILED: "red", ERROR: "red", RUNNING: "cyan" };

/** Colour on a terminal only (and never with NO_COLOR): pipes and files get plain text. */
export function useColour(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

interface Cell {
  text: string;
  style?: Style;
}

/** Aligned columns, measured on the plain text, each cell coloured after padding. */
function printStyledTable(headers: string[], rows: Cell[][], colour: boolean): void {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column]?.text ?? "").length)),
  );
  const line = (cells: Cell[]) =>
    cells
      .map((cell, column) => {
        const padded = column === cells.length - 1 ? cell.text : cell.text.padEnd(widths[column] ?? 0);
        return colour && cell.style ? styleText(cell.style, padded) : padded;
      })
      .join("  ")
      .trimEnd();
  process.stdout.write(`${[line(headers.map((text) => ({ text }))), ...rows.map(line)].join("\n")}\n`);
}

/** A source's last drill, for `sources list`. */
export interface LastDrillSummary {
  id: string;
  status: DrillStatus;
  at: string;
}

export type SourceListRow = SourceHealthResult & { lastDrill: LastDrillSummary | null };

export function expectationLabel(result: SourceHealthResult): string {
  const { expectation } = result.verdict;
  if (!expectation) return "- (too little history: set one with sources set)";
  const origin = { source: "", repository: " (repository's)", inferred: " (inferred)" }[expectation.origin];
  return `${describeExpectation(expectation)}${origin}`;
}

function provenLabel(result: SourceHealthResult): string {
  const proven = result.lastProvenRestorable;
  if (!proven) return "never";
  return `${shortTime(proven.at)}${proven.rtoSeconds === null ? "" : ` (RTO ${formatDuration(proven.rtoSeconds)})`}`;
}

function ageLabel(result: SourceHealthResult): string {
  return result.verdict.ageSeconds === null ? "-" : `${formatDuration(result.verdict.ageSeconds)} ago`;
}

export function printSourceHealth(rows: SourceListRow[], colour = useColour()): void {
  if (rows.length === 0) {
    console.log("No sources yet: restorable push <dir> --source <name>");
    return;
  }
  printStyledTable(
    ["SOURCE", "STATE", "LAST BACKUP", "EXPECTATION", "PROVEN RESTORABLE", "LAST DRILL"],
    rows.map((row) => [
      { text: row.verdict.source },
      { text: row.verdict.state, style: STATE_STYLES[row.verdict.state] },
      { text: ageLabel(row) },
      { text: expectationLabel(row) },
      { text: provenLabel(row) },
      row.lastDrill
        ? { text: `${row.lastDrill.status} ${shortTime(row.lastDrill.at)}`, style: DRILL_STYLES[row.lastDrill.status] }
        : { text: "-" },
    ]),
    colour,
  );
}

export function printHealthCheck(report: HealthRunReport, colour = useColour()): void {
  const { sources } = report;
  const changed = sources.filter((source) => source.transition && !source.lostRace);
  const told = sources.filter((source) => source.alert);
  const alerts = `${told.length} alert${told.length === 1 ? "" : "s"}`;
  console.log(
    report.dryRun
      ? `What if it were ${shortTime(report.now)}: ${sources.length} sources, ${changed.length} would change state, ${alerts} would be raised (nothing recorded or raised)`
      : `Evaluated ${sources.length} sources at ${shortTime(report.now)}: ${changed.length} changed state, ${alerts} raised`,
  );
  if (sources.length === 0) return;
  printStyledTable(
    ["SOURCE", "STATE", "WAS", "LAST BACKUP", "DUE", "ALERT"],
    sources.map((source) => [
      { text: source.verdict.source },
      { text: source.verdict.state, style: STATE_STYLES[source.verdict.state] },
      { text: source.recorded?.state ?? "-" },
      { text: ageLabel(source) },
      { text: source.verdict.dueAt ? shortTime(source.verdict.dueAt) : "-" },
      { text: source.lostRace ? "(another run recorded it first)" : (source.alert?.subject ?? "") },
    ]),
    colour,
  );
}

/** The JSON of one source's health, as `sources list --json` and `sources check --json` print it. */
export function sourceHealthJson(result: SourceHealthResult & { lastDrill?: LastDrillSummary | null }) {
  const { verdict } = result;
  return {
    source: verdict.source,
    kind: result.kind,
    repository: result.repository,
    state: verdict.state,
    recorded: result.recorded,
    paused: result.paused,
    lastBackup: verdict.lastBackup ? { ...verdict.lastBackup, ageSeconds: verdict.ageSeconds } : null,
    expectation: verdict.expectation
      ? { ...verdict.expectation, text: describeExpectation(verdict.expectation) }
      : null,
    dueAt: verdict.dueAt,
    staleAt: verdict.staleAt,
    remindEverySeconds: verdict.remindEverySeconds,
    lastProvenRestorable: result.lastProvenRestorable,
    ...(result.lastDrill !== undefined ? { lastDrill: result.lastDrill } : {}),
    transition: result.transition,
    alert: result.alert,
    lostRace: result.lostRace,
  };
}
