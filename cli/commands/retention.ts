import type { Command } from "commander";
import type { ResticForgetFlags, RetentionPolicy } from "../../shared/retention/policy";
import type { SafetyFloors } from "../../shared/retention/settings";
import { collect, deploymentFor, positiveInteger } from "../context";
import { printJson, printTable, shortTime } from "../output";

/** restic forget's policy flags, spelled as restic spells them. */
function withPolicyFlags(command: Command): Command {
  return command
    .option("-l, --keep-last <n>", "keep the last n backups ('unlimited' for all)")
    .option("-H, --keep-hourly <n>", "keep the last n hourly backups")
    .option("-d, --keep-daily <n>", "keep the last n daily backups")
    .option("-w, --keep-weekly <n>", "keep the last n weekly backups")
    .option("-m, --keep-monthly <n>", "keep the last n monthly backups")
    .option("-y, --keep-yearly <n>", "keep the last n yearly backups")
    .option("--keep-within <duration>", "keep backups within this duration of the newest (e.g. 1y5m7d2h)")
    .option("--keep-within-hourly <duration>", "keep hourly backups within this duration of the newest")
    .option("--keep-within-daily <duration>", "keep daily backups within this duration of the newest")
    .option("--keep-within-weekly <duration>", "keep weekly backups within this duration of the newest")
    .option("--keep-within-monthly <duration>", "keep monthly backups within this duration of the newest")
    .option("--keep-within-yearly <duration>", "keep yearly backups within this duration of the newest")
    .option("--keep-tag <taglist>", "keep backups with all of these tags (repeatable)", collect, [])
    .option(
      "-g, --group-by <fields>",
      "group by host, paths and/or tags (restic snapshots within one source always form one group)",
    );
}

/** Commander hands the flags over with these names; repeated --keep-tag always comes as a list. */
type PolicyFlags = Omit<ResticForgetFlags, "keepTag"> & { keepTag: string[] };

async function policyFrom(flags: PolicyFlags): Promise<RetentionPolicy | undefined> {
  const { policyFromResticFlags } = await import("../../shared/retention/policy");
  const { keepTag, ...rest } = flags;
  const policy = policyFromResticFlags({ ...rest, ...(keepTag.length > 0 ? { keepTag } : {}) });
  const given = Object.keys(policy).filter((field) => field !== "groupBy");
  return given.length > 0 ? policy : undefined;
}

export function registerRetentionCommands(program: Command): void {
  const retention = program
    .command("retention")
    .description("Retention: restic forget semantics with safety floors, applied from the cloud side");

  withPolicyFlags(
    retention
      .command("plan")
      .description(
        "Dry run: what retention would keep and remove, with reasons and the change since the last stored plan",
      )
      .option("--source <name>", "only this source")
      .option("--no-safety-floors", "show the bare policy, without the floors and the circuit breaker")
      .option("--json", "print JSON in the shape of restic forget --json"),
  ).action(
    async (options: PolicyFlags & { source?: string; safetyFloors: boolean; json?: boolean }, command: Command) => {
      const deployment = await deploymentFor(command);
      const { operatorRetention } = await import("../operator/retention");
      const { planFromCatalog } = await import("../../shared/retention/apply");
      const { asResticForgetGroup } = await import("../../shared/retention/source-plan");
      const deps = await operatorRetention(deployment);
      const policy = await policyFrom(options);
      const sources = options.source ? [options.source] : (await deps.catalog.listSources()).map((s) => s.source);
      const planned = [];
      for (const source of sources) {
        planned.push(
          await planFromCatalog(source, deps, {
            ...(policy ? { policy } : {}),
            ...(options.safetyFloors ? {} : { floors: false }),
          }),
        );
      }
      if (options.source && planned[0]?.entries.length === 0) warnNoBackups(options.source);
      if (options.json) {
        return printJson(
          planned.map(({ plan, diff }) => ({
            ...asResticForgetGroup(plan),
            status: plan.status,
            refusal: plan.refusal,
            policy: plan.policy,
            floors: plan.floors,
            untouched: plan.untouched,
            diff,
          })),
        );
      }
      if (planned.length === 0) return console.log("No sources in the catalog.");
      for (const [index, { plan, diff, previous }] of planned.entries()) {
        if (index > 0) console.log("");
        const status =
          plan.status === "REFUSED"
            ? `REFUSED: ${plan.refusal}`
            : plan.status === "NO_POLICY"
              ? `no policy: ${plan.refusal}`
              : "ok";
        console.log(`${plan.source}: keep ${plan.keep.length}, remove ${plan.remove.length} (${status})`);
        const rows = [
          ...plan.keep.map((item) => [shortId(item.id), shortTime(item.time), "keep", item.reasons.join(", ")]),
          ...plan.remove.map((item) => [shortId(item.id), shortTime(item.time), "remove", item.reasons.join(", ")]),
        ].sort((a, b) => (b[1] ?? "").localeCompare(a[1] ?? ""));
        if (rows.length > 0) printTable(["ID", "TIME", "ACTION", "REASONS"], rows);
        if (previous) {
          console.log(
            `since the plan of ${shortTime(previous.plannedAt)}: ${diff.newlyRemoved.length} newly removed, ${diff.noLongerRemoved.length} no longer removed, ${diff.newBackups.length} new backups`,
          );
        }
        if (plan.untouched.length > 0)
          console.log(
            `not judged (not COMPLETE): ${plan.untouched.map((u) => `${shortId(u.id)} ${u.status}`).join(", ")}`,
          );
      }
    },
  );

  retention
    .command("apply")
    .description(
      "Apply retention now (what the daily Lambda does): remove dump sets, forget restic snapshots, store the plan",
    )
    .option("--source <name>", "only this source")
    .option("--json", "print JSON for scripts")
    .action(async (options: { source?: string; json?: boolean }, command: Command) => {
      const deployment = await deploymentFor(command);
      const { operatorRetention } = await import("../operator/retention");
      const { applyRetention } = await import("../../shared/retention/apply");
      const deps = await operatorRetention(deployment);
      if (options.source && (await deps.catalog.listBySource(options.source, { limit: 1 })).length === 0) {
        warnNoBackups(options.source);
      }
      const sources = options.source ? [options.source] : (await deps.catalog.listSources()).map((s) => s.source);
      const applied = [];
      for (const source of sources) {
        const plan = await applyRetention(source, deps);
        applied.push(plan);
      }
      if (options.json) return printJson({ applied });
      for (const plan of applied) {
        const what =
          plan.status === "REFUSED"
            ? `refused: ${plan.refusal}`
            : plan.status === "NO_POLICY"
              ? `no policy (${plan.refusal}), nothing done`
              : `removed ${plan.outcome.removed.length}`;
        console.log(
          `${plan.source}: ${what}${plan.outcome.postponed.length > 0 ? `, postponed ${plan.outcome.postponed.length} (${plan.outcome.postponed[0]?.reason})` : ""}`,
        );
      }
      if (applied.some((plan) => plan.status === "REFUSED" || plan.outcome.postponed.length > 0)) process.exitCode = 1;
    });

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
      .option("--legal-hold-tag <tag>", "a tag that blocks removal (repeatable; default legal-hold)", collect, [])
      .option("--no-drill-floor", "do not keep the newest backup with a passing drill"),
  ).action(
    async (
      options: PolicyFlags & {
        source?: string;
        repo?: string;
        floorKeepNewest?: number;
        floorMaxRemovalPercent?: number;
        floorProtectHours?: number;
        legalHoldTag: string[];
        drillFloor: boolean;
      },
      command: Command,
    ) => {
      if (Boolean(options.source) === Boolean(options.repo)) throw new Error("give exactly one of --source and --repo");
      const policy = await policyFrom(options);
      if (!policy) throw new Error("give at least one --keep-* flag");
      const { isEmptyPolicy, EMPTY_POLICY_MESSAGE } = await import("../../shared/retention/engine");
      const { EmptyRetentionPolicyError } = await import("../../shared/retention/errors");
      // restic forget refuses a policy whose every rule is 0; storing one would mean "keep nothing".
      if (isEmptyPolicy(policy)) {
        throw new EmptyRetentionPolicyError(
          `${EMPTY_POLICY_MESSAGE} (every --keep-* is 0: give a count above 0, 'unlimited', a non-zero --keep-within or a --keep-tag)`,
        );
      }
      const floors: Partial<SafetyFloors> = {
        ...(options.floorKeepNewest !== undefined ? { keepNewestComplete: options.floorKeepNewest } : {}),
        ...(options.floorMaxRemovalPercent !== undefined
          ? { maxRemovalFraction: options.floorMaxRemovalPercent / 100 }
          : {}),
        ...(options.floorProtectHours !== undefined ? { protectNewerThanHours: options.floorProtectHours } : {}),
        ...(options.legalHoldTag.length > 0 ? { legalHoldTags: options.legalHoldTag } : {}),
        ...(options.drillFloor ? {} : { keepNewestDrillPassed: false }),
      };
      const deployment = await deploymentFor(command);
      const { RetentionSettingsSchema } = await import("../../shared/retention/settings");
      const { parseWith } = await import("../../shared/validation");
      const settings = parseWith(RetentionSettingsSchema, { policy, floors }, "retention settings");
      const scope = options.source
        ? { kind: "source" as const, source: options.source }
        : { kind: "repository" as const, repository: options.repo as string };
      const { DynamoRetentionStore } = await import("../../shared/catalog/dynamo/retention-store");
      const { dynamoClient } = await import("../aws");
      await new DynamoRetentionStore(await dynamoClient(), deployment.table).putSettings(scope, settings);
      console.log(
        `Set the retention of ${options.source ? `source ${options.source}` : `repository ${options.repo}`}. Try it: restorable retention plan`,
      );
    },
  );

  retention
    .command("show-policy")
    .description("Show the retention that applies to a source, and where it comes from")
    .requiredOption("--source <name>", "the source")
    .option("--json", "print JSON for scripts")
    .action(async (options: { source: string; json?: boolean }, command: Command) => {
      const deployment = await deploymentFor(command);
      const { operatorRetention } = await import("../operator/retention");
      const { planFromCatalog } = await import("../../shared/retention/apply");
      const { resticFlagsOf } = await import("../../shared/retention/policy");
      const { plan, origin, entries } = await planFromCatalog(options.source, await operatorRetention(deployment));
      if (entries.length === 0) warnNoBackups(options.source);
      const policy = plan.status === "NO_POLICY" ? null : plan.policy;
      const policyFlags = policy ? resticFlagsOf(policy) : [];
      if (options.json) {
        return printJson({
          source: plan.source,
          policy,
          policyFlags,
          origin,
          floors: plan.floors,
        });
      }
      const from = {
        source: "set for this source",
        repository: `set for every source of restic repository ${origin.kind === "repository" ? origin.repository : ""}`,
        default: "the default for dump sets: the backup page's rotation",
        none: "restic sources have no default: nothing is removed until a policy is set",
      }[origin.kind];
      const rows = [
        ["source", plan.source],
        ["policy", policy ? policyFlags.join(" ") : "none"],
        ["from", from],
        ...(plan.floors ? describeFloors(plan.floors).map((line, index) => [index === 0 ? "floors" : "", line]) : []),
      ];
      for (const [label, value] of rows) console.log(`${(label ?? "").padEnd(8)}${value}`);
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
    });

  program
    .command("alerts")
    .description("Recent alerts: refused retention runs, failed runs, bucket settings that drifted")
    .option("--limit <n>", "at most this many", positiveInteger, 20)
    .option("--json", "print JSON for scripts")
    .action(async (options: { limit: number; json?: boolean }, command: Command) => {
      const deployment = await deploymentFor(command);
      const { DynamoAlertStore } = await import("../../shared/catalog/dynamo/alert-store");
      const { dynamoClient } = await import("../aws");
      const alerts = await new DynamoAlertStore(await dynamoClient(), deployment.table).recent(options.limit);
      if (options.json) return printJson({ alerts });
      if (alerts.length === 0) return console.log("No alerts.");
      printTable(
        ["TIME", "KIND", "SUBJECT", "MESSAGE"],
        alerts.map((a) => [shortTime(a.at), a.kind, a.subject, a.message]),
      );
    });
}

/**
 * A mistyped --source plans and applies nothing without complaint; say so on stderr (stdout stays the
 * plan, for scripts). A policy may be set before a source's first backup, so set-policy does not ask.
 */
function warnNoBackups(source: string): void {
  process.stderr.write(
    `restorable: no backups of source ${source} in the catalog; restorable catalog list shows the sources\n`,
  );
}

/** Quotes a value for a POSIX shell when it holds anything but safe characters (restic source names hold spaces). */
function shellQuote(value: string): string {
  return /^[\w.:@/-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
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

function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 8) : id;
}
