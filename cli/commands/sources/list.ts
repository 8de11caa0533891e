import type { Command } from "commander";
import type { Catalog } from "../../../shared/catalog/dynamo/open";
import { mapConcurrently } from "../../../shared/concurrency";
import type { SourceHealthResult } from "../../../shared/health/run";
import { evaluateHealthNow } from "../../operator/source-health";
import { printJson, warn } from "../../output/format";
import { type LastDrillSummary, printSourceHealth, type SourceListRow, sourceHealthJson } from "../../output/sources";
import { servicesFor } from "../../services";

export function registerSourcesList(sources: Command): void {
  sources
    .command("list")
    .description(
      "Every source's health: state, last backup's age, expectation (and whether inferred), last proven restorable, last drill",
    )
    .option("--json", "print JSON for scripts")
    .action(list);
}

async function list(options: { json?: boolean }, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  // The evaluator's own judgement, as of now, recording nothing: what its next run will record.
  const report = await evaluateHealthNow(catalog, { dryRun: true });
  for (const failure of report.failed) warn(`could not judge ${failure.source}: ${failure.error}`);
  const rows = await withLastDrills(catalog, report.sources);
  if (options.json) return printJson({ now: report.now, sources: rows.map(sourceHealthJson) });
  printSourceHealth(rows);
}

async function withLastDrills(catalog: Catalog, results: SourceHealthResult[]): Promise<SourceListRow[]> {
  return mapConcurrently(results, 8, async (result) => {
    const [drill] = await catalog.drills.listBySource(result.verdict.source, 1);
    const lastDrill: LastDrillSummary | null = drill
      ? { id: drill.id, status: drill.status, at: drill.finishedAt ?? drill.startedAt }
      : null;
    return { ...result, lastDrill };
  });
}
