import type { PushResult } from "../upload/dump-set";
import { printComponents } from "./backups";
import { bytes } from "./format";

/** What `push` and `backup postgres` did, with the set's components and how to find it in the catalog. */
export function printPushResult(result: PushResult): void {
  const verb = result.outcome === "pushed" ? "Pushed" : "Already pushed, nothing uploaded:";
  console.log(
    `${verb} set ${result.setId} of source ${result.source} (${bytes(result.bytes)} in ${result.seconds.toFixed(1)} s)`,
  );
  printComponents(result.components);
  console.log(`\nThe catalog lists it once indexed: restorable catalog show ${result.setId}`);
}
