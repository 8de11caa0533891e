import type { Command } from "commander";
import type { Catalog } from "../../../shared/catalog/dynamo/open";
import { InvalidInputError } from "../../../shared/errors";
import type { RetentionPolicy } from "../../../shared/retention/policy";
import type { RetentionSettings, SafetyFloors, SettingsScope } from "../../../shared/retention/settings";
import { collect, listOf, usageError } from "../../context";
import { printJson } from "../../output/format";
import { servicesFor } from "../../services";
import { requireRegisteredRepository, sourceExists, unknownSourceMessage } from "../names";
import { type PolicyFlags, policyFrom, refuseGroupBy, withPolicyFlags } from "./policy-flags";

interface FloorFlags {
  floorKeepNewest?: number;
  floorMaxRemovalPercent?: number;
  floorProtectHours?: number;
  legalHoldTag?: string[];
  drillFloor: boolean;
}

interface SetPolicyOptions extends PolicyFlags, FloorFlags {
  source?: string;
  repo?: string;
  allowNew?: boolean;
  json?: boolean;
}

export function registerRetentionSetPolicy(retention: Command): void {
  withPolicyFlags(
    retention
      .command("set-policy")
      .description("Set the retention policy (and floors) of a source, or of every source of a restic repository")
      .option("--source <name>", "the source")
      .option("--repo <name>", "every source of this restic repository (a source's own policy wins)")
      .option("--floor-keep-newest <n>", "never remove the newest n complete backups (default 3)", Number)
      .option(
        "--floor-max-removal-percent <pct>",
        "refuse a run removing more than this share of a source (default 50)",
        Number,
      )
      .option("--floor-protect-hours <h>", "refuse a run removing a backup younger than this (default 24)", Number)
      .option("--legal-hold-tag <tag>", "a tag that blocks removal (repeatable; default legal-hold)", collect)
      .option("--no-drill-floor", "do not keep the newest backup with a passing drill")
      .option("--allow-new", "set the policy of a source that has no backups yet (it is refused otherwise, as a typo)")
      .option("--json", "print JSON for scripts"),
  ).action(setPolicy);
}

async function setPolicy(options: SetPolicyOptions, command: Command): Promise<void> {
  refuseGroupBy(options);
  if (Boolean(options.source) === Boolean(options.repo)) usageError(command, "give exactly one of --source and --repo");
  const policy = await policyFrom(options);
  if (!policy) usageError(command, "give at least one --keep-* flag");
  await refuseEmptyPolicy(policy);
  const scope: SettingsScope = options.source
    ? { kind: "source", source: options.source }
    : { kind: "repository", repository: options.repo as string };
  const settings = await settingsOf(policy, floorsFrom(options));
  const { catalog } = await servicesFor(command);
  await refuseUnknownScope(catalog, scope, options.allowNew ?? false);
  await catalog.retention.putSettings(scope, settings);
  if (options.json) return printJson({ scope, settings });
  const what = scope.kind === "source" ? `source ${scope.source}` : `repository ${scope.repository}`;
  console.log(`Set the retention of ${what}. Try it: restorable retention plan`);
}

/**
 * A policy for a name that matches nothing would sit unused while the source meant keeps its old one: refuse it
 * (exit 2) with the closest names. A source's policy may be set before its first backup with --allow-new; a
 * repository must be registered first.
 */
async function refuseUnknownScope(catalog: Catalog, scope: SettingsScope, allowNew: boolean): Promise<void> {
  if (scope.kind === "repository") return requireRegisteredRepository(catalog.repositories, scope.repository);
  if (allowNew || (await sourceExists(catalog.backups, scope.source))) return;
  const message = await unknownSourceMessage(catalog.backups, scope.source);
  throw new InvalidInputError(
    "unknown-source",
    `${message} (--allow-new sets the policy of a source before its first backup)`,
  );
}

/** restic forget refuses a policy whose every rule is 0; storing one would mean "keep nothing". */
async function refuseEmptyPolicy(policy: RetentionPolicy): Promise<void> {
  const { isEmptyPolicy, EMPTY_POLICY_MESSAGE } = await import("../../../shared/retention/engine");
  const { EmptyRetentionPolicyError } = await import("../../../shared/retention/errors");
  if (isEmptyPolicy(policy)) {
    throw new EmptyRetentionPolicyError(
      `${EMPTY_POLICY_MESSAGE} (every --keep-* is 0: give a count above 0, 'unlimited', a non-zero --keep-within or a --keep-tag)`,
    );
  }
}

/** The floors given on the command line; the others keep their defaults. */
function floorsFrom(options: FloorFlags): Partial<SafetyFloors> {
  const legalHoldTags = listOf(options.legalHoldTag);
  return {
    ...(options.floorKeepNewest !== undefined ? { keepNewestComplete: options.floorKeepNewest } : {}),
    ...(options.floorMaxRemovalPercent !== undefined
      ? { maxRemovalFraction: options.floorMaxRemovalPercent / 100 }
      : {}),
    ...(options.floorProtectHours !== undefined ? { protectNewerThanHours: options.floorProtectHours } : {}),
    ...(legalHoldTags.length > 0 ? { legalHoldTags } : {}),
    ...(options.drillFloor ? {} : { keepNewestDrillPassed: false }),
  };
}

async function settingsOf(policy: RetentionPolicy, floors: Partial<SafetyFloors>): Promise<RetentionSettings> {
  const { RetentionSettingsSchema } = await import("../../../shared/retention/settings");
  const { parseWith } = await import("../../../shared/validation");
  return parseWith(RetentionSettingsSchema, { policy, floors }, "retention settings");
}
