import type { BackupEntry } from "../../shared/catalog/entry";
import type { PlannedSource, StoredPlan } from "../../shared/retention/apply";
import type { RetentionPolicy, SafetyFloors, SettingsOrigin } from "../../shared/retention/settings";
import type { SourcePlan } from "../../shared/retention/source-plan";
import { displayId, printFields, printTable, shortTime } from "./format";

/** `retention plan`: per source, what is kept and removed and why, and the change since the stored plan. */
export function printPlans(planned: PlannedSource[]): void {
  if (planned.length === 0) {
    console.log("No sources in the catalog.");
    return;
  }
  for (const [index, source] of planned.entries()) {
    if (index > 0) console.log("");
    printPlan(source);
  }
}

function printPlan({ plan, diff, previous }: PlannedSource): void {
  console.log(`${plan.source}: keep ${plan.keep.length}, remove ${plan.remove.length} (${planStatus(plan)})`);
  const rows = [
    ...plan.keep.map((item) => [displayId(item.id), shortTime(item.time), "keep", item.reasons.join(", ")]),
    ...plan.remove.map((item) => [displayId(item.id), shortTime(item.time), "remove", item.reasons.join(", ")]),
  ].sort((a, b) => (b[1] ?? "").localeCompare(a[1] ?? ""));
  if (rows.length > 0) printTable(["ID", "TIME", "ACTION", "REASONS"], rows);
  if (previous) {
    console.log(
      `since the plan of ${shortTime(previous.plannedAt)}: ${diff.newlyRemoved.length} newly removed, ${diff.noLongerRemoved.length} no longer removed, ${diff.newBackups.length} new backups`,
    );
  }
  if (plan.untouched.length > 0)
    console.log(`not judged (not COMPLETE): ${plan.untouched.map((u) => `${displayId(u.id)} ${u.status}`).join(", ")}`);
}

function planStatus(plan: SourcePlan): string {
  if (plan.status === "REFUSED") return `REFUSED: ${plan.refusal}`;
  if (plan.status === "NO_POLICY") return `no policy: ${plan.refusal}`;
  return "ok";
}

/** `retention apply`: one line per source, what was done. */
export function printApplied(applied: StoredPlan[]): void {
  for (const plan of applied) {
    const what =
      plan.status === "REFUSED"
        ? `refused: ${plan.refusal}`
        : plan.status === "NO_POLICY"
          ? `no policy (${plan.refusal}), nothing done`
          : `removed ${plan.outcome.removed.length}`;
    const { postponed } = plan.outcome;
    console.log(
      `${plan.source}: ${what}${postponed.length > 0 ? `, postponed ${postponed.length} (${postponed[0]?.reason})` : ""}`,
    );
  }
}

export interface ShownPolicy {
  plan: SourcePlan;
  origin: SettingsOrigin;
  entries: BackupEntry[];
  /** The policy as restic flags; empty when there is none. */
  policyFlags: string[];
}

/** `retention show-policy`: the policy, where it comes from, the floors, and how to set one. */
export function printPolicy({ plan, origin, entries, policyFlags }: ShownPolicy): void {
  const floors = plan.floors ? describeFloors(plan.floors) : [];
  printFields(
    [
      ["source", plan.source],
      ["policy", plan.status === "NO_POLICY" ? "none" : policyFlags.join(" ")],
      ["from", describeOrigin(origin)],
      ...floors.map((line, index): [string, string] => [index === 0 ? "floors" : "", line]),
    ],
    { gap: "", minWidth: 8 },
  );
  if (origin.kind === "source") return;
  console.log(
    `\nSet one for this source: restorable retention set-policy --source ${shellQuote(plan.source)} --keep-…`,
  );
  const restic = entries.find((entry) => entry.kind === "restic");
  if (restic?.kind === "restic" && origin.kind !== "repository") {
    console.log(
      `or for every source of its repository: restorable retention set-policy --repo ${restic.repository} --keep-…`,
    );
  }
}

/** `retention show-policy --repo`: the repository's own policy, and what each of its sources gets. */
export interface RepositoryPolicy {
  repository: string;
  policy: RetentionPolicy | null;
  policyFlags: string[];
  floors: SafetyFloors;
  sources: { source: string; origin: "source" | "repository" | "none"; policyFlags: string[] }[];
}

export function printRepositoryPolicy(shown: RepositoryPolicy): void {
  const floors = describeFloors(shown.floors);
  printFields(
    [
      ["repository", shown.repository],
      ["policy", shown.policy ? shown.policyFlags.join(" ") : "none: restic sources have no default"],
      ...floors.map((line, index): [string, string] => [index === 0 ? "floors" : "", line]),
    ],
    { gap: "", minWidth: 11 },
  );
  if (shown.sources.length === 0) {
    console.log("\nNo sources of this repository in the catalog yet.");
  } else {
    console.log("");
    printTable(
      ["SOURCE", "POLICY", "FROM"],
      shown.sources.map((s) => [
        s.source,
        s.policyFlags.join(" ") || "none",
        s.origin === "source" ? "its own" : s.origin === "repository" ? "the repository's" : "-",
      ]),
    );
  }
  if (!shown.policy) {
    console.log(`\nSet one: restorable retention set-policy --repo ${shown.repository} --keep-…`);
  }
}

function describeOrigin(origin: SettingsOrigin): string {
  switch (origin.kind) {
    case "source":
      return "set for this source";
    case "repository":
      return `set for every source of restic repository ${origin.repository}`;
    case "default":
      return "the default for dump sets: the backup page's rotation";
    case "none":
      return "restic sources have no default: nothing is removed until a policy is set";
  }
}

function describeFloors(floors: SafetyFloors): string[] {
  return [
    `keep the newest ${floors.keepNewestComplete} COMPLETE backups`,
    floors.keepNewestDrillPassed ? "keep the newest backup whose restore drill passed" : "",
    floors.legalHoldTags.length > 0 ? `never remove a backup tagged ${floors.legalHoldTags.join(" or ")}` : "",
    `refuse a run that would remove more than ${Math.round(floors.maxRemovalFraction * 100)}% of the source's backups`,
    `refuse a run that would remove a backup newer than ${floors.protectNewerThanHours} h`,
  ].filter((line) => line !== "");
}

/** Quotes a value for a POSIX shell when it holds anything but safe characters (restic source names hold spaces). */
export function shellQuote(value: string): string {
  return /^[\w.:@/-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}
