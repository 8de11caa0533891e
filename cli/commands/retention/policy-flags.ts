import { type Command, Option } from "commander";
import { InvalidInputError } from "../../../shared/errors";
import type { ResticForgetFlags, RetentionPolicy } from "../../../shared/retention/policy";
import { collect, listOf } from "../../context";

/** Commander hands the flags over with these names; --keep-tag is a list, absent when never given. */
export type PolicyFlags = Omit<ResticForgetFlags, "keepTag"> & { keepTag?: string[] };

/** restic forget's policy flags, spelled as restic spells them. */
export function withPolicyFlags(command: Command): Command {
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
    .option("--keep-tag <taglist>", "keep backups with all of these tags (repeatable)", collect)
    .addOption(
      // Declared, so that a restic user's habit gets our explanation rather than "unknown option"; not shown.
      new Option("-g, --group-by <fields>", "refused: a source is one restic group").hideHelp(),
    );
}

export const GROUP_BY_REFUSAL =
  "--group-by is not supported by retention: each source is one restic group (as restorable restic add-repo " +
  "--group-by formed it); retention applies per source";

/** restic's --group-by has no meaning here: refuse it (exit 2) rather than silently ignore it. */
export function refuseGroupBy(flags: PolicyFlags): void {
  if (flags.groupBy !== undefined) throw new InvalidInputError("retention-group-by", GROUP_BY_REFUSAL);
}

/** The policy the flags give, or undefined when no --keep-* flag was given. */
export async function policyFrom(flags: PolicyFlags): Promise<RetentionPolicy | undefined> {
  const { policyFromResticFlags } = await import("../../../shared/retention/policy");
  const { keepTag, groupBy: _refused, ...rest } = flags;
  const keepTags = listOf(keepTag);
  const policy = policyFromResticFlags({ ...rest, ...(keepTags.length > 0 ? { keepTag: keepTags } : {}) });
  return Object.keys(policy).length > 0 ? policy : undefined;
}
