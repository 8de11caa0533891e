import { InvalidArgumentError } from "commander";
import type { Catalog } from "../../shared/catalog/dynamo/open";
import { InvalidInputError } from "../../shared/errors";
import { parseDuration } from "../../shared/health/duration";
import { evaluateSources, type HealthRunOptions, type HealthRunReport } from "../../shared/health/run";
import { silentLog } from "../../shared/log";
import { sourceExists, unknownSourceMessage } from "../commands/names";

/** Refuses (exit 2) a source with no backups in the catalog, naming the closest ones; `hint` says what else to do. */
export async function requireKnownSource(catalog: Catalog, source: string, hint = ""): Promise<void> {
  if (await sourceExists(catalog.backups, source)) return;
  const message = await unknownSourceMessage(catalog.backups, source);
  throw new InvalidInputError("unknown-source", hint ? `${message} (${hint})` : message);
}

/**
 * The evaluation the health evaluator Lambda runs, from the operator's terminal: recording and raising what
 * it finds, or, dry, only saying it.
 */
export function evaluateHealthNow(
  catalog: Catalog,
  options: HealthRunOptions & { now?: Date } = {},
): Promise<HealthRunReport> {
  const { now, ...run } = options;
  return evaluateSources(
    {
      catalog: catalog.backups,
      health: catalog.health,
      alerts: catalog.alerts,
      log: silentLog,
      now: () => now ?? new Date(),
    },
    run,
  );
}

/** A duration option (`24h`, `90m`, `2d`, `1h30m`) in seconds; commander refuses anything else (exit 2). */
export function durationArgument(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^duration: /, ""));
  }
}
