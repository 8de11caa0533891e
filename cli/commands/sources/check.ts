import { type Command, InvalidArgumentError } from "commander";
import { evaluateHealthNow, requireKnownSource } from "../../operator/source-health";
import { printJson, warn } from "../../output/format";
import { printHealthCheck, sourceHealthJson } from "../../output/sources";
import { servicesFor } from "../../services";

interface CheckOptions {
  source?: string;
  now?: Date;
  json?: boolean;
}

function timeArgument(value: string): Date {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new InvalidArgumentError("expected a time such as 2026-01-02T03:00:00Z");
  return time;
}

export function registerSourcesCheck(sources: Command): void {
  sources
    .command("check")
    .description(
      "Run the health evaluation once, as the scheduled evaluator does: record state changes and raise their alerts",
    )
    .option("--source <name>", "only this source")
    .option(
      "--now <time>",
      "judge as if it were this time (ISO 8601): what if, recording and raising nothing",
      timeArgument,
    )
    .option("--json", "print JSON for scripts")
    .action(check);
}

async function check(options: CheckOptions, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  if (options.source) await requireKnownSource(catalog, options.source);
  const report = await evaluateHealthNow(catalog, {
    ...(options.source ? { sources: [options.source] } : {}),
    ...(options.now ? { now: options.now, dryRun: true } : {}),
  });
  for (const failure of report.failed) warn(`could not evaluate ${failure.source}: ${failure.error}`);
  if (report.failed.length > 0) process.exitCode = 1;
  if (options.json) return printJson({ ...report, sources: report.sources.map(sourceHealthJson) });
  printHealthCheck(report);
}
