import type { Command } from "commander";
import { evaluateHealthNow, requireKnownSource } from "../../operator/source-health";
import { printJson, shortTime } from "../../output/format";
import { sourceHealthJson } from "../../output/sources";
import { servicesFor } from "../../services";

export function registerSourcesResume(sources: Command): void {
  sources
    .command("resume")
    .description("Judge a paused source again; its next backup is due counting from now")
    .argument("<source>", "the source")
    .option("--json", "print JSON for scripts")
    .action(resume);
}

async function resume(source: string, options: { json?: boolean }, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  await requireKnownSource(catalog, source);
  await catalog.health.setPaused(source, false, new Date());
  const [health] = (await evaluateHealthNow(catalog, { sources: [source] })).sources;
  if (options.json) return printJson({ source, paused: false, health: health ? sourceHealthJson(health) : null });
  const state = health
    ? `${health.verdict.state}${health.verdict.dueAt ? `, next backup due ${shortTime(health.verdict.dueAt)}` : ""}`
    : "-";
  console.log(`Resumed ${source}: ${state}.`);
}
