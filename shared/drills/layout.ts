/** Where drills keep their files in the backup bucket: the agent's config, its report and its heartbeat. */
export const DRILLS_PREFIX = "drills/";

export function drillKeys(drillId: string) {
  return {
    config: `${DRILLS_PREFIX}${drillId}/config.json`,
    report: `${DRILLS_PREFIX}${drillId}/report.json`,
    heartbeat: `${DRILLS_PREFIX}${drillId}/heartbeat.json`,
  };
}

/** A drill file's id and kind from its key, or undefined for anything else under drills/. */
export function classifyDrillKey(
  key: string,
): { drillId: string; file: "report" | "heartbeat" | "config" } | undefined {
  const match = /^drills\/(d-\d{8}T\d{6}Z-[0-9a-f]{8})\/(report|heartbeat|config)\.json$/.exec(key);
  return match ? { drillId: match[1] as string, file: match[2] as "report" | "heartbeat" | "config" } : undefined;
}
