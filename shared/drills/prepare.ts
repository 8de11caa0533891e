import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import * as z from "zod";
import type { BackupEntry, DumpSetEntry, ResticSnapshotEntry } from "../catalog/entry";
import { findBackup } from "../catalog/find";
import type { CatalogStore } from "../catalog/store";
import { RestorableError } from "../errors";
import { parseMasterKeySecret } from "../keys/master-key";
import type { PasswordSource, RepositoryStore } from "../restic/ports";
import { resticRepositoryUrl } from "../restic/repository";
import { type AgentConfig, AgentConfigSchema, CONFIG_URL_LINE } from "./agent-config";
import { drillKeys } from "./layout";
import { DEFAULT_DRILL_PLAN, type DrillPlan } from "./plan";
import type { DrillStore } from "./ports";
import { type DrillRecord, NO_PHASES } from "./record";
import { CONFIG_KEY_LINE, sealConfig } from "./sealed-config";
import { selectBackup } from "./select";

/** What starts a drill (the CLI, the dispatcher): the state machine's input. */
export const DrillRequestSchema = z.object({
  drillId: z.string().regex(/^d-\d{8}T\d{6}Z-[0-9a-f]{8}$/),
  source: z.string().min(1),
  /** A given backup (`drill run --backup`); otherwise the plan's selection picks one. */
  backupId: z.string().nullable().default(null),
  trigger: z.enum(["schedule", "manual"]),
  /** "prune": the maintenance job that runs `restic prune` on `repository` (source: prune:<repository>). */
  job: z.enum(["drill", "prune"]).default("drill"),
  repository: z.string().nullable().default(null),
});
export type DrillRequest = z.input<typeof DrillRequestSchema>;

/** What the launch step needs, returned to the state machine. */
export interface LaunchParameters {
  drillId: string;
  instanceType: string;
  diskGiB: number;
  /** base64, as RunInstances takes it. */
  userData: string;
  deadline: string;
  heartbeatSeconds: number;
  timeoutSeconds: number;
  /** Which instance runs it: "prune" launches with the prune role, anything else with the drill role. */
  role: "drill" | "prune";
}

export class DrillCannotStartError extends RestorableError {}

export interface PrepareDependencies {
  s3: S3Client;
  bucket: string;
  region: string;
  /** An emulator or private endpoint, spelled into restic's repository URL. */
  endpoint?: string;
  catalog: Pick<CatalogStore, "getBackup" | "listBySource" | "listByRepository" | "listSources">;
  drills: Pick<DrillStore, "create" | "update" | "getPlan" | "listBySource">;
  repositories: Pick<RepositoryStore, "get" | "list">;
  passwords: PasswordSource;
  /** The master key secret's text, read only when the plan's smoke command opts in. */
  masterKey: () => Promise<string | undefined>;
  /** The agent bundle and restic binary the instance downloads (deploy-time assets), when deployed. */
  agent: { bucket: string; key: string } | null;
  restic: { bucket: string; key: string } | null;
  now: () => Date;
  random: () => number;
}

/**
 * Starts a drill: records it RUNNING, picks the backup, writes the agent's config (presigned URLs to the
 * pinned versions, its report and heartbeat) to the bucket, and returns what the launch step needs. A drill
 * that cannot start (no backup to drill) is recorded ERROR here and thrown, so the state machine ends it.
 */
export async function prepareDrill(
  input: DrillRequest,
  executionArn: string | null,
  deps: PrepareDependencies,
): Promise<LaunchParameters> {
  const request = DrillRequestSchema.parse(input);
  const stored = await deps.drills.getPlan(request.source);
  const plan = stored?.plan ?? DEFAULT_DRILL_PLAN;
  const startedAt = deps.now();
  const deadline = new Date(startedAt.getTime() + plan.timeouts.drillMinutes * 60_000);
  const record: DrillRecord = {
    id: request.drillId,
    source: request.source,
    backupId: null,
    kind: null,
    status: "RUNNING",
    reason: null,
    trigger: request.trigger,
    startedAt: startedAt.toISOString(),
    finishedAt: null,
    executionArn,
    instanceId: null,
    checks: [],
    phases: NO_PHASES,
    bytes: { downloaded: 0, restored: 0 },
    baseline: null,
    resticSubset: null,
    reportKey: null,
    deadline: deadline.toISOString(),
  };
  await deps.drills.create(record).catch((error: Error) => {
    // A re-delivered prepare message: the record exists, carry on with it.
    if (error.name !== "ConditionalCheckFailedException") throw error;
  });
  try {
    let config: AgentConfig;
    if (request.job === "prune") {
      await deps.drills.update(request.drillId, { kind: "prune" });
      const access = await resticAccess(request.repository, deps);
      const drill = { kind: "restic-prune" as const, repositoryName: request.repository as string, ...access };
      config = await agentConfig(request.drillId, request.source, drill, plan, deadline, deps);
    } else {
      const backup = await chooseBackup(request, plan, deps);
      await deps.drills.update(request.drillId, { backupId: backup.id, kind: backup.kind });
      const drill =
        backup.kind === "dumpset"
          ? await dumpSetDrill(backup, plan, deps)
          : await resticDrill(request.drillId, backup, plan, deps);
      config = await agentConfig(request.drillId, backup.source, drill, plan, deadline, deps);
    }
    const keys = drillKeys(request.drillId);
    // Only the instance's user data carries the key: the copy the bucket keeps of a repository password or the
    // master key is no use once the drill is over, and a config changed in the bucket does not open.
    const { sealed, key } = sealConfig(request.drillId, JSON.stringify(config));
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.bucket,
        Key: keys.config,
        Body: JSON.stringify(sealed),
        ContentType: "application/json",
      }),
    );
    const configUrl = await presignGet(deps.s3, deps.bucket, keys.config, undefined, plan);
    return {
      drillId: request.drillId,
      instanceType: plan.instance.type,
      diskGiB: plan.instance.diskGiB,
      userData: Buffer.from(await userData({ url: configUrl, key }, plan, deps)).toString("base64"),
      deadline: deadline.toISOString(),
      heartbeatSeconds: plan.timeouts.heartbeatSeconds,
      timeoutSeconds: plan.timeouts.drillMinutes * 60,
      role: request.job === "prune" ? "prune" : "drill",
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await deps.drills.update(request.drillId, { status: "ERROR", reason, finishedAt: deps.now().toISOString() });
    throw error instanceof DrillCannotStartError
      ? error
      : new DrillCannotStartError("drill-cannot-start", reason, { cause: error });
  }
}

async function chooseBackup(
  request: z.infer<typeof DrillRequestSchema>,
  plan: DrillPlan,
  deps: PrepareDependencies,
): Promise<BackupEntry> {
  if (request.backupId) {
    const backup = await findBackup(request.backupId, { catalog: deps.catalog, repositories: deps.repositories });
    if (backup.status !== "COMPLETE") {
      throw new DrillCannotStartError(
        "backup-not-complete",
        `backup ${backup.id} is ${backup.status}: only COMPLETE backups are drilled`,
      );
    }
    return backup;
  }
  const entries = await deps.catalog.listBySource(request.source, { limit: 10_000 });
  const backup = selectBackup(entries, plan.selection, deps.now(), deps.random);
  if (!backup) {
    throw new DrillCannotStartError(
      "nothing-to-drill",
      `source ${request.source} has no COMPLETE backup in the last ${plan.selection.withinDays} days to drill`,
    );
  }
  return backup;
}

/** The agent's config around what it drills: where its report and heartbeats go, and its deadline. */
async function agentConfig(
  drillId: string,
  source: string,
  drill: AgentConfig["drill"],
  plan: DrillPlan,
  deadline: Date,
  deps: PrepareDependencies,
): Promise<AgentConfig> {
  const keys = drillKeys(drillId);
  return AgentConfigSchema.parse({
    format: "restorable.drill/v1",
    drillId,
    source,
    reportUrl: await presignPut(deps.s3, deps.bucket, keys.report, plan),
    heartbeatUrl: await presignPut(deps.s3, deps.bucket, keys.heartbeat, plan),
    heartbeatSeconds: plan.timeouts.heartbeatSeconds,
    deadline: deadline.toISOString(),
    drill,
  });
}

/** What restic on the instance needs to open a repository: its URL, environment and password. */
async function resticAccess(name: string | null, deps: PrepareDependencies) {
  const repository = name ? await deps.repositories.get(name) : undefined;
  const password = repository ? await deps.passwords.get(repository) : undefined;
  if (!repository || password === undefined) {
    throw new DrillCannotStartError("no-password", `no password for restic repository ${name ?? "(none named)"}`);
  }
  return {
    repository: resticRepositoryUrl({
      bucket: deps.bucket,
      repository: repository.name,
      region: deps.region,
      ...(deps.endpoint ? { endpoint: deps.endpoint } : {}),
    }),
    environment: { AWS_DEFAULT_REGION: deps.region },
    password,
  };
}

async function dumpSetDrill(set: DumpSetEntry, plan: DrillPlan, deps: PrepareDependencies) {
  const components = [];
  for (const component of set.components) {
    const url = await presignGet(deps.s3, deps.bucket, component.key, component.versionId ?? undefined, plan);
    components.push({ ...component, url });
  }
  const wantsKey = plan.checks.smoke?.withMasterKey ?? false;
  const secret = wantsKey ? await deps.masterKey() : undefined;
  return {
    kind: "dumpset" as const,
    setId: set.id,
    components,
    sql: plan.checks.sql,
    smoke: plan.checks.smoke,
    masterKey: secret ? parseMasterKeySecret(secret).key : null,
  };
}

async function resticDrill(drillId: string, snapshot: ResticSnapshotEntry, plan: DrillPlan, deps: PrepareDependencies) {
  const access = await resticAccess(snapshot.repository, deps);
  const n = plan.checks.resticReadDataSubsets;
  // Rotate the subset drill by drill: n drills of a source read every pack of its repository once.
  const previous = await deps.drills.listBySource(snapshot.source, n);
  const last = previous.find((drill) => drill.id !== drillId && drill.resticSubset?.n === n)?.resticSubset;
  const summary = snapshot.summary as { total_files_processed?: number; total_bytes_processed?: number } | null;
  return {
    kind: "restic" as const,
    snapshotId: snapshot.id,
    ...access,
    expected: { files: summary?.total_files_processed ?? null, bytes: summary?.total_bytes_processed ?? null },
    subset: { k: last ? (last.k % n) + 1 : 1, n },
  };
}

/**
 * The instance's boot script (Amazon Linux 2023): a shutdown deadline first, whatever happens next (the
 * instance terminates on shutdown), then the agent's tools, the agent, and the drill.
 */
async function userData(
  config: { url: string; key: string },
  plan: DrillPlan,
  deps: PrepareDependencies,
): Promise<string> {
  const asset = async (name: string, object: { bucket: string; key: string } | null) =>
    object ? [`${name}='${await presignGet(deps.s3, object.bucket, object.key, undefined, plan)}'`] : [];
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    `shutdown -h +${plan.timeouts.drillMinutes}`,
    `${CONFIG_URL_LINE}'${config.url}'`,
    `${CONFIG_KEY_LINE}'${config.key}'`,
    ...(await asset("RESTORABLE_AGENT_URL", deps.agent)),
    ...(await asset("RESTORABLE_RESTIC_URL", deps.restic)),
    "dnf install -y --quiet nodejs postgresql16 postgresql16-server tar gzip",
    ...(deps.agent ? [`curl -fsSL "$RESTORABLE_AGENT_URL" -o /opt/restorable-drill-agent.mjs`] : []),
    ...(deps.restic
      ? [`curl -fsSL "$RESTORABLE_RESTIC_URL" -o /usr/local/bin/restic && chmod +x /usr/local/bin/restic`]
      : []),
    `RESTORABLE_DRILL_CONFIG_KEY="$RESTORABLE_DRILL_CONFIG_KEY" node /opt/restorable-drill-agent.mjs drill agent --config-url "$RESTORABLE_DRILL_CONFIG_URL" --work-dir /var/lib/restorable-drill --shutdown`,
    "",
  ].join("\n");
}

async function presignGet(s3: S3Client, bucket: string, key: string, versionId: string | undefined, plan: DrillPlan) {
  return getSignedUrl(
    s3,
    new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
    {
      expiresIn: urlLifetime(plan),
    },
  );
}

async function presignPut(s3: S3Client, bucket: string, key: string, plan: DrillPlan) {
  return getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: "application/json" }), {
    expiresIn: urlLifetime(plan),
  });
}

/** URLs live as long as the drill may (and no longer than S3 allows, 7 days). */
function urlLifetime(plan: DrillPlan): number {
  return Math.min(7 * 86_400, plan.timeouts.drillMinutes * 60 + 600);
}
