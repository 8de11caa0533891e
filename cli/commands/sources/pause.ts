import type { Command } from "commander";
import { evaluateHealthNow, requireKnownSource } from "../../operator/source-health";
import { printJson } from "../../output/format";
import { sourceHealthJson } from "../../output/sources";
import { servicesFor } from "../../services";

export function registerSourcesPause(sources: Command): void {
  sources
    .command("pause")
    .description("Pause a source's health alerts (a workspace stopped on purpose) until `sources resume`")
    .argument("<source>", "the source")
    .option("--json", "print JSON for scripts")
    .action(pause);
}

async function pause(source: string, options: { json?: boolean }, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  await requireKnownSource(catalog, source);
  await catalog.health.setPaused(source, true, new Date());
  // Recorded PAUSED now rather than at the evaluator's next run; PAUSED raises nothing.
  const [health] = (await evaluateHealthNow(catalog, { sources: [source] })).sources;
  if (options.json) return printJson({ source, paused: true, health: health ? sourceHealthJson(health) : null });
  console.log(`Paused ${source}: no health alerts for it until restorable sources resume ${source}.`);
}
