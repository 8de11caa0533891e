import type { DrillStore } from "../../../shared/drills/ports";
import type { DrillRecord } from "../../../shared/drills/record";

/**
 * Waits for a drill to finish, reading its record; on a terminal, says each phase as it begins (prepared,
 * the instance running, each check the agent reports).
 */
export async function watchDrill(
  drills: Pick<DrillStore, "get">,
  drillId: string,
  progress: boolean,
): Promise<DrillRecord> {
  const said = new Set<string>();
  const say = (line: string) => {
    if (!progress || said.has(line)) return;
    said.add(line);
    process.stderr.write(`  ${line}\n`);
  };
  for (;;) {
    const drill = await drills.get(drillId);
    if (drill) {
      say("started");
      if (drill.backupId) say(`drilling backup ${drill.backupId}`);
      if (drill.instanceId) say(`instance ${drill.instanceId}`);
      if (drill.status !== "RUNNING") return drill;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
