import type { Command } from "commander";
import type { Catalog } from "../../../shared/catalog/dynamo/open";
import { formatDuration } from "../../../shared/health/duration";
import {
  cronPeriodSeconds,
  defaultGraceSeconds,
  describeExpectation,
  type Expectation,
  ExpectationSchema,
} from "../../../shared/health/expectation";
import { type HealthSettings, NO_SETTINGS } from "../../../shared/health/model";
import type { HealthScope } from "../../../shared/health/ports";
import { parseWith } from "../../../shared/validation";
import { usageError } from "../../context";
import { durationArgument, evaluateHealthNow, requireKnownSource } from "../../operator/source-health";
import { printJson, shortTime } from "../../output/format";
import { sourceHealthJson } from "../../output/sources";
import { servicesFor } from "../../services";
import { requireRegisteredRepository, sourcesOfRepository } from "../names";

interface SetOptions {
  repo?: string;
  every?: number;
  cron?: string;
  tz?: string;
  grace?: number;
  remindEvery?: number;
  infer?: boolean;
  allowNew?: boolean;
  json?: boolean;
}

export function registerSourcesSet(sources: Command): void {
  sources
    .command("set")
    .description("Set how often a source (or every source of a restic repository) is expected to back up")
    .argument("[source]", "the source (or --repo)")
    .option("--repo <repository>", "every source of this restic repository that has no expectation of its own")
    .option("--every <duration>", "a COMPLETE backup at least this often (24h, 90m, 2d)", durationArgument)
    .option("--cron <expression>", 'a COMPLETE backup at each time of this cron schedule ("0 2 * * *")')
    .option("--tz <zone>", "the cron schedule's IANA time zone (default UTC)")
    .option(
      "--grace <duration>",
      "how long past due before STALE (default max(1h, 10% of the interval))",
      durationArgument,
    )
    .option(
      "--remind-every <duration>",
      "remind of a source that stays STALE at most this often (default 24h)",
      durationArgument,
    )
    .option("--infer", "forget the expectation set: infer it from the source's history again")
    .option("--allow-new", "set a source that has no backups yet (refused otherwise, as a typo)")
    .option("--json", "print JSON for scripts")
    .action(set);
}

async function set(source: string | undefined, options: SetOptions, command: Command): Promise<void> {
  if (Boolean(source) === Boolean(options.repo)) usageError(command, "give a source or --repo <repository>, not both");
  refuseConflicts(options, command);
  const scope: HealthScope = source
    ? { kind: "source", source }
    : { kind: "repository", repository: options.repo as string };
  const { catalog } = await servicesFor(command);
  if (scope.kind === "repository") await requireRegisteredRepository(catalog.repositories, scope.repository);
  else if (!options.allowNew)
    await requireKnownSource(catalog, scope.source, "--allow-new sets it before its first backup");
  const current = (await catalog.health.getSettings(scope)) ?? NO_SETTINGS;
  const changes = changesFrom(options, current, new Date(), command);
  const settings = await catalog.health.putSettings(scope, changes);
  if (scope.kind === "repository") return reportRepository(catalog, scope.repository, settings, options.json);
  const report = await evaluateHealthNow(catalog, { sources: [scope.source], dryRun: true });
  const health = report.sources[0];
  if (options.json) return printJson({ scope, settings, health: health ? sourceHealthJson(health) : null });
  console.log(`Set ${scope.source}: ${summary(settings)}.`);
  if (health) {
    const due = health.verdict.dueAt ? `, next backup due ${shortTime(health.verdict.dueAt)}` : "";
    console.log(`Its state now: ${health.verdict.state}${due} (restorable sources list).`);
  }
}

function refuseConflicts(options: SetOptions, command: Command): void {
  const kinds = [options.every !== undefined, options.cron !== undefined, options.infer === true].filter(Boolean);
  if (kinds.length > 1) usageError(command, "give one of --every, --cron and --infer");
  if (options.tz && options.cron === undefined) usageError(command, "--tz goes with --cron");
  if (options.infer && options.grace !== undefined) usageError(command, "--grace goes with --every or --cron");
  if (kinds.length === 0 && options.grace === undefined && options.remindEvery === undefined) {
    usageError(command, "give --every, --cron, --infer, --grace or --remind-every");
  }
}

/** The settings the flags change; the others stay as they are. */
function changesFrom(
  options: SetOptions,
  current: HealthSettings,
  now: Date,
  command: Command,
): Partial<HealthSettings> {
  const changes: Partial<HealthSettings> = {};
  if (options.remindEvery !== undefined) changes.remindEverySeconds = options.remindEvery;
  let expectation: Expectation | null | undefined;
  if (options.infer) expectation = null;
  else if (options.every !== undefined) {
    expectation = { every: options.every, graceSeconds: options.grace ?? defaultGraceSeconds(options.every) };
  } else if (options.cron !== undefined) {
    expectation = cronExpectation(options.cron, options.tz ?? "UTC", options.grace, now);
  } else if (options.grace !== undefined) {
    if (!current.expectation)
      usageError(command, "--grace alone changes an expectation set before: give --every or --cron");
    expectation = { ...current.expectation, graceSeconds: options.grace };
  }
  if (expectation !== undefined) {
    changes.expectation = expectation;
    changes.setAt = now.toISOString();
  }
  return changes;
}

function cronExpectation(cron: string, timeZone: string, grace: number | undefined, now: Date): Expectation {
  const checked = parseWith(ExpectationSchema, { cron, timeZone, graceSeconds: grace ?? 0 }, "cron expectation");
  if (grace !== undefined) return checked;
  return { cron, timeZone, graceSeconds: defaultGraceSeconds(cronPeriodSeconds(cron, timeZone, now)) };
}

function summary(settings: HealthSettings, repository = false): string {
  const expected = settings.expectation
    ? describeExpectation(settings.expectation)
    : repository
      ? "no default expectation (each source's own, or inferred from its history)"
      : "expectation inferred from its history (median gap)";
  const remind = settings.remindEverySeconds
    ? `, reminded every ${formatDuration(settings.remindEverySeconds)} while STALE`
    : "";
  return `${expected}${remind}`;
}

async function reportRepository(catalog: Catalog, repository: string, settings: HealthSettings, json?: boolean) {
  const [members, stored] = await Promise.all([
    sourcesOfRepository(catalog.backups, repository),
    catalog.health.list(),
  ]);
  const own = new Set(stored.filter((health) => health.settings.expectation).map((health) => health.source));
  const applies = members.filter((source) => !own.has(source));
  if (json)
    return printJson({
      scope: { kind: "repository", repository },
      settings,
      appliesTo: applies,
      ownExpectation: members.filter((s) => own.has(s)),
    });
  console.log(`Set repository ${repository}: ${summary(settings, true)}.`);
  const others = applies.length < members.length ? " (the others have their own)" : "";
  console.log(`It applies to ${applies.length} of its ${members.length} sources${others}.`);
}
