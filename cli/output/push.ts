import type { PushResult } from "../upload/dump-set";
import { printComponents } from "./backups";
import { bytes } from "./format";

/** What `push` and `backup postgres` did, with the set's components and how to find it in the catalog. */
export function printPushResult(result: PushResult, tagsGiven: string[] = []): void {
  const verb = result.outcome === "pushed" ? "Pushed" : "Already pushed, nothing uploaded:";
  console.log(
    `${verb} set ${result.setId} of source ${result.source} (${bytes(result.bytes)} in ${result.seconds.toFixed(1)} s)`,
  );
  printComponents(result.components);
  console.log(`\nThe catalog lists it once indexed: restorable catalog show ${result.setId}`);
  const dropped = tagsNotAdded(result, tagsGiven);
  if (dropped.length > 0) {
    console.log(
      `\nThe tags given now (${dropped.join(", ")}) were not added: pushing again never changes a pushed set. Add them with:\n` +
        `  restorable catalog tag ${result.setId} ${dropped.map((tag) => `--add ${tag}`).join(" ")}`,
    );
  }
}

/** A push of a set already pushed uploads nothing and adds none of the tags given this time. */
export function tagsNotAdded(result: Pick<PushResult, "outcome">, tagsGiven: string[]): string[] {
  return result.outcome === "already-pushed" ? tagsGiven : [];
}
