import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DescribeInstancesCommand, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openCatalog } from "../../shared/catalog/dynamo/open";
import type { DumpSetEntry } from "../../shared/catalog/entry";
import type { DrillRecord } from "../../shared/drills/record";
import { SealedConfigError, SealedConfigSchema, unsealConfig } from "../../shared/drills/sealed-config";
import { SetWriter } from "../support/dumpsets";
import { postgresAt } from "../support/postgres";
import { makeResticFixture, type ResticAccess, restic, resticJson } from "../support/restic";
import { KEEP_ONLY_THE_NEWEST } from "../support/retention-flags";
import { writeSeedBackup } from "../support/seed-backup";
import { startTestStack, type TestStack } from "../support/stack";

let stack: TestStack;
/** Sources whose drill instances boot but never run their agent. */
const silentSources = new Set(["silent"]);

beforeAll(async () => {
  stack = await startTestStack("drills", {
    silentDrillInstance: async ({ drillId }) => {
      const drill = await openCatalog(stack.dynamo, stack.deployment.table).drills.get(drillId);
      return silentSources.has(drill?.source ?? "");
    },
  });
  // What npm start runs: the drill worker behind its queue, and the stand-in for EC2 that runs the agents.
  stack.handlers.drillPump.start();
  stack.handlers.hypervisor.start();
});

afterAll(async () => {
  await stack?.handlers.stop();
});

async function pushSeedSet(source: string, rows = 300): Promise<DumpSetEntry> {
  const { directory } = await writeSeedBackup(postgresAt(inject("postgresPort")), { rows });
  const pushed = await stack.cli(["push", directory, "--source", source, "--json"]);
  expect(pushed.code, pushed.stderr).toBe(0);
  await stack.pump.drain();
  return (await stack.catalog.getBackup(JSON.parse(pushed.stdout).setId)) as DumpSetEntry;
}

/** The seed's sets are dated 2025-01-01, beyond any selection window: drills name their backup. */
async function runDrill(source: string, backupId: string): Promise<DrillRecord> {
  const ran = await stack.cli(["drill", "run", "--source", source, "--backup", backupId, "--wait", "--json"]);
  expect(ran.stderr).not.toMatch(/^restorable: /m);
  return JSON.parse(ran.stdout) as DrillRecord;
}

async function setPlan(source: string, plan: object): Promise<void> {
  const file = path.join(tmpdir(), `restorable-plan-${source}-${Date.now()}.yaml`);
  await writeFile(file, JSON.stringify(plan));
  const set = await stack.cli(["drill", "set-plan", "--source", source, "--file", file]);
  expect(set.code, set.stderr).toBe(0);
}

async function drillInstancesLeftRunning(): Promise<string[]> {
  const listed = await stack.handlers.clients.ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: "tag-key", Values: ["restorable:drill"] }] }),
  );
  return (listed.Reservations ?? [])
    .flatMap((reservation) => reservation.Instances ?? [])
    .filter((instance) => instance.State?.Name !== "terminated")
    .map((instance) => instance.InstanceId as string);
}

describe("a restore drill of a dump set", () => {
  it("restores a good seed-style set on a throwaway instance, passes every check, and leaves nothing running", async () => {
    const set = await pushSeedSet("drilled");
    const drill = await runDrill("drilled", set.id);
    expect(drill, JSON.stringify(drill.checks)).toMatchObject({ status: "PASSED", backupId: set.id, reason: null });
    const names = drill.checks.map((check) => check.name);
    expect(names).toEqual(
      expect.arrayContaining(["integrity", "archive-readable", "restore", "baseline", "master-key"]),
    );
    for (const phase of ["launch", "download", "restore", "total"] as const) expect(drill.phases[phase]).not.toBeNull();
    expect(drill.bytes.downloaded).toBeGreaterThan(0);
    expect(drill.baseline).toEqual(expect.arrayContaining([{ table: "codebolt.persistent_memory", rows: 300 }]));
    expect(await drillInstancesLeftRunning()).toEqual([]);

    const shown = await stack.cli(["drill", "show", drill.id]);
    expect(shown.stdout).toMatch(/^status\s+PASSED$/m);
    expect(shown.stdout).toMatch(/^restore time\s+[\d.]+ s \(launch/m);
    const entry = (await stack.catalog.getBackup(set.id)) as DumpSetEntry;
    expect(entry.lastDrill).toMatchObject({ id: drill.id, status: "PASSED" });
    expect((await stack.cli(["catalog", "show", set.id])).stdout).toMatch(
      new RegExp(`^last drill\\s+PASSED .*drill show ${drill.id}\\)$`, "m"),
    );
    const source = (await stack.catalog.listSources()).find((s) => s.source === "drilled");
    expect(source?.lastProvenRestorable).toMatchObject({ backupId: set.id, drillId: drill.id });
  }, 240_000);

  it("fails the SQL assertion the plan names, and says which", async () => {
    const set = await pushSeedSet("asserted");
    await setPlan("asserted", {
      checks: {
        sql: [{ name: "enough-memories", query: "SELECT * FROM codebolt.persistent_memory", minRows: 100000 }],
      },
    });
    const drill = await runDrill("asserted", set.id);
    expect(drill.status).toBe("FAILED");
    expect(drill.reason).toMatch(/^sql:enough-memories: /);
    expect(await drillInstancesLeftRunning()).toEqual([]);
  }, 240_000);

  it("ends in ERROR when the agent never reports, and the instance is terminated", async () => {
    const set = await pushSeedSet("silent");
    await setPlan("silent", { timeouts: { heartbeatSeconds: 10, drillMinutes: 5 } });
    const drill = await runDrill("silent", set.id);
    expect(drill.status).toBe("ERROR");
    expect(drill.reason).toMatch(/^heartbeat: /);
    expect(await drillInstancesLeftRunning()).toEqual([]);
  }, 240_000);

  it("ends in ERROR when the instance cannot be launched, naming the launch", async () => {
    const set = await pushSeedSet("unlaunchable");
    await setPlan("unlaunchable", { instance: { type: "x9.nonexistent" } });
    const drill = await runDrill("unlaunchable", set.id);
    expect(drill.status).toBe("ERROR");
    expect(drill.reason).toMatch(/^launch: /);
    expect(await drillInstancesLeftRunning()).toEqual([]);
  }, 240_000);

  it("fails the archive check for a truncated main.dump whose SHA-256 the manifest agrees with", async () => {
    const set = new SetWriter(stack.s3, stack.deployment.bucket, "truncated", {
      "main.dump": (await readFile(await seedDump())).subarray(0, 2000),
    });
    await set.putAllComponents();
    await set.putManifest();
    await stack.pump.drain();
    const drill = await runDrill("truncated", set.setId);
    expect(drill.status).toBe("FAILED");
    expect(drill.reason).toMatch(/^archive-readable: main\.dump/);
  }, 240_000);

  it("fails the integrity check when a component's bytes differ from what the catalog committed, naming it", async () => {
    const set = await pushSeedSet("rotten");
    // As if the stored bytes had rotted: the catalog's SHA-256 no longer describes them.
    const components = set.components.map((component) =>
      component.name === "codebolt-server.yaml" ? { ...component, sha256: "0".repeat(64) } : component,
    );
    await stack.catalog.setStatus(set.id, "COMPLETE", null, new Date(), { components });
    const drill = await runDrill("rotten", set.id);
    expect(drill.status).toBe("FAILED");
    expect(drill.reason).toMatch(/^integrity: .*codebolt-server\.yaml/);
  }, 240_000);

  it("fails the master-key check when the service does not hold the set's key", async () => {
    const set = await pushSeedSet("keyless");
    // The seed names mk-2025-01; the service holds only another key.
    await openCatalog(stack.dynamo, stack.deployment.table).keyring.replace([
      {
        keyId: "mk-other",
        fingerprint: "mk-0000000000000000",
        versionId: "v1",
        labels: ["AWSCURRENT"],
        registeredAt: new Date().toISOString(),
      },
    ]);
    await stack.cli(["key", "register"]).catch(() => undefined);
    const entry = (await stack.catalog.getBackup(set.id)) as DumpSetEntry;
    await stack.catalog.setStatus(entry.id, "COMPLETE", null, new Date(), { masterKeyHeld: false });
    const drill = await runDrill("keyless", set.id);
    expect(drill.status).toBe("FAILED");
    expect(drill.reason).toMatch(/^master-key: master key mk-2025-01 is not held/);
  }, 240_000);

  it("fails the baseline when most rows vanished since the last passing drill, naming the table", async () => {
    const full = await pushSeedSet("shrinking", 400);
    expect((await runDrill("shrinking", full.id)).status).toBe("PASSED");
    const shrunk = await pushSeedSet("shrinking", 20);
    const drill = await runDrill("shrinking", shrunk.id);
    expect(drill.status).toBe("FAILED");
    expect(drill.reason).toMatch(/^baseline-drift: .*table codebolt\.persistent_memory: rows fell from 400 to 20/);
  }, 240_000);

  it("keeps the newest backup with a passing drill through retention's real apply path", async () => {
    const drilled = await pushSeedSet("floored", 50);
    const passed = await runDrill("floored", drilled.id);
    expect(passed.status, passed.reason ?? "").toBe("PASSED");
    const newer = new SetWriter(
      stack.s3,
      stack.deployment.bucket,
      "floored",
      { "main.dump": "PGDMP newer" },
      new Date(),
    );
    await newer.putAllComponents();
    await newer.putManifest();
    await stack.pump.drain();
    const policy = ["--keep-last", "1", "--floor-keep-newest", "0", "--floor-max-removal-percent", "100"];
    expect(
      (await stack.cli(["retention", "set-policy", "--source", "floored", ...policy, "--floor-protect-hours", "0"]))
        .code,
    ).toBe(0);
    const applied = await stack.cli(["retention", "apply", "--source", "floored", "--json"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).applied[0].outcome.removed).toEqual([]);
    const plan = JSON.parse((await stack.cli(["retention", "plan", "--source", "floored", "--json"])).stdout)[0];
    expect(plan.reasons.find((r: { snapshot: { id: string } }) => r.snapshot.id === drilled.id).matches).toContain(
      "safety floor: newest backup with a passing restore drill",
    );
  }, 240_000);

  it("has the janitor terminate a drill instance past its deadline and end its drill in ERROR", async () => {
    const drillId = "d-20261203T000000Z-0badc0de";
    const drills = openCatalog(stack.dynamo, stack.deployment.table).drills;
    await drills.create({
      id: drillId,
      source: "forgotten",
      backupId: null,
      kind: null,
      status: "RUNNING",
      reason: null,
      trigger: "manual",
      startedAt: "2026-12-03T00:00:00.000Z",
      finishedAt: null,
      executionArn: null,
      instanceId: null,
      checks: [],
      phases: { launch: null, download: null, verify: null, restore: null, checks: null, total: null },
      bytes: { downloaded: 0, restored: 0 },
      baseline: null,
      resticSubset: null,
      reportKey: null,
      deadline: "2026-12-03T01:00:00.000Z",
    });
    // An instance whose execution was aborted: nothing but the janitor will ever terminate it.
    silentSources.add("forgotten");
    const launched = await stack.handlers.clients.ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          {
            ResourceType: "instance",
            Tags: [
              { Key: "restorable:drill", Value: drillId },
              { Key: "restorable:deadline", Value: "2026-12-03T01:00:00.000Z" },
            ],
          },
        ],
      }),
    );
    await stack.runScheduled("drillJanitor");
    expect(await drillInstancesLeftRunning()).toEqual([]);
    expect(await drills.get(drillId)).toMatchObject({
      status: "ERROR",
      reason: expect.stringContaining(`the janitor terminated instance ${launched.Instances?.[0]?.InstanceId}`),
    });
  });

  it("raises one alert for a drill that did not pass, naming the drill", async () => {
    const alerts = await openCatalog(stack.dynamo, stack.deployment.table).alerts.recent(100);
    expect(alerts.filter((alert) => alert.kind === "drill-failed").length).toBeGreaterThanOrEqual(3);
    expect(alerts.find((alert) => alert.kind === "drill-failed")?.message).toMatch(/restorable drill show d-/);
  });
});

let dumpFile: string | undefined;
/** A real pg_dump -Fc archive, made once. */
async function seedDump(): Promise<string> {
  dumpFile ??= path.join(
    (await writeSeedBackup(postgresAt(inject("postgresPort")), { rows: 100 })).directory,
    "main.dump",
  );
  return dumpFile;
}

describe("a restore drill of a restic snapshot", () => {
  let access: ResticAccess;
  let snapshotId: string;
  let source: string;

  beforeAll(async () => {
    const passwordFile = path.join(tmpdir(), `restorable-drill-password-${Date.now()}`);
    await writeFile(passwordFile, "drill password\n");
    const added = await stack.cli(["restic", "add-repo", "drilled-ws", "--password-file", passwordFile, "--json"]);
    expect(added.code, added.stderr).toBe(0);
    access = {
      repository: JSON.parse(added.stdout).url,
      password: "drill password",
      env: { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "x", AWS_DEFAULT_REGION: "us-east-1" },
    };
    const fixture = await makeResticFixture(access);
    snapshotId = fixture.snapshotIds[1] as string;
    await stack.pump.drain();
    source = (await stack.catalog.getBackup(snapshotId))?.source as string;
  }, 120_000);

  it("restores it, checks a rotating subset of the packs, and three drills with n=3 read them all", async () => {
    await setPlan(source, { checks: { resticReadDataSubsets: 3 } });
    const subsets: string[] = [];
    for (let run = 0; run < 3; run++) {
      const drill = await runDrill(source, snapshotId);
      expect(drill.status, drill.reason ?? "").toBe("PASSED");
      expect(drill.checks.map((check) => check.name)).toEqual(
        expect.arrayContaining(["restic-restore", "restic-check"]),
      );
      subsets.push(`${drill.resticSubset?.k}/${drill.resticSubset?.n}`);
    }
    expect(subsets).toEqual(["1/3", "2/3", "3/3"]);
    expect(await drillInstancesLeftRunning()).toEqual([]);
  }, 300_000);

  it("leaves the repository password in the bucket only sealed, under a key that went with the instance", async () => {
    await setPlan(source, { checks: { resticReadDataSubsets: 1 } });
    const drill = await runDrill(source, snapshotId);
    expect(drill.status, drill.reason ?? "").toBe("PASSED");
    const stored = await stack.s3.send(
      new GetObjectCommand({ Bucket: stack.deployment.bucket, Key: `drills/${drill.id}/config.json` }),
    );
    const text = (await stored.Body?.transformToString()) ?? "";
    expect(text).not.toContain("drill password");
    const sealed = SealedConfigSchema.parse(JSON.parse(text));
    expect(sealed.drillId).toBe(drill.id);
    expect(() => unsealConfig(sealed, randomBytes(32).toString("base64url"))).toThrow(SealedConfigError);
  }, 120_000);

  it("fails restic check when a pack is damaged (before the service puts it back)", async () => {
    await setPlan(source, { checks: { resticReadDataSubsets: 1 } });
    const prefix = `restic/drilled-ws/data/`;
    const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.deployment.bucket, Prefix: prefix }));
    const pack = listed.Contents?.[0]?.Key as string;
    const original = await stack.s3.send(new GetObjectCommand({ Bucket: stack.deployment.bucket, Key: pack }));
    const bytes = Buffer.from((await original.Body?.transformToByteArray()) ?? []);
    const middle = Math.floor(bytes.length / 2);
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.deployment.bucket, Key: pack, Body: bytes }));
    const drill = await runDrill(source, snapshotId);
    expect(drill.status).toBe("FAILED");
    // Whichever pack was hit, restic notices: in restore when the snapshot needs it, in check regardless.
    expect(drill.reason).toMatch(/^restic-(restore|check): /);
    // The ingest event of the overwrite puts the pack back; the next drill passes again.
    await stack.pump.drain();
    expect((await runDrill(source, snapshotId)).status).toBe("PASSED");
  }, 300_000);
});

describe("restic prune, the drill runner's maintenance job", () => {
  it("prunes a repository after retention forgets its snapshots: it shrinks, and restic check passes", async () => {
    const passwordFile = path.join(tmpdir(), `restorable-prune-password-${Date.now()}`);
    await writeFile(passwordFile, "prune password\n");
    const added = await stack.cli(["restic", "add-repo", "pruned-ws", "--password-file", passwordFile, "--json"]);
    expect(added.code, added.stderr).toBe(0);
    const access: ResticAccess = {
      repository: JSON.parse(added.stdout).url,
      password: "prune password",
      env: { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "x", AWS_DEFAULT_REGION: "us-east-1" },
    };
    const fixture = await makeResticFixture({ ...access, backups: [] });
    // Each snapshot holds 1 MiB of its own random bytes: what forget leaves behind and prune removes.
    for (let day = 1; day <= 4; day++) {
      await writeFile(path.join(fixture.sourceDirectory, "blob.bin"), randomBytes(1024 * 1024));
      await fixture.backup({ host: "ws9", time: `2025-01-0${day} 03:04:05` });
    }
    await stack.pump.drain();
    const source = (await stack.catalog.getBackup(fixture.snapshotIds[0] as string))?.source as string;
    const dataBytes = () => currentBytes("restic/pruned-ws/data/");
    const before = await dataBytes();

    // Nothing forgotten yet: the dispatcher starts no prune.
    await stack.runScheduled("drillDispatcher");
    expect(await pruneJobs("pruned-ws")).toEqual([]);

    const policy = await stack.cli(["retention", "set-policy", "--source", source, ...KEEP_ONLY_THE_NEWEST]);
    expect(policy.code, policy.stderr).toBe(0);
    const applied = await stack.cli(["retention", "apply", "--source", source, "--json"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).applied[0].outcome.removed).toHaveLength(3);
    // forget removed only the snapshot files: the data is all still there.
    expect(await dataBytes()).toBe(before);

    await stack.runScheduled("drillDispatcher");
    const [job] = await waitForPruneJobs("pruned-ws", 1);
    expect(job?.status, job?.reason ?? "").toBe("PASSED");
    expect(job?.kind).toBe("prune");
    expect(job?.checks.map((check) => [check.name, check.passed])).toEqual([
      ["restic-prune", true],
      ["restic-check", true],
    ]);
    const after = await dataBytes();
    expect(after).toBeLessThan(before - 2.5 * 1024 * 1024);
    // What prune left is whole, by restic's own check, and the kept snapshot restores.
    await restic(["check", "--read-data"], access);
    expect((await resticJson<{ id: string }[]>(["snapshots", "--json"], access)).map((s) => s.id)).toEqual([
      fixture.snapshotIds[3],
    ]);
    expect((await fullCatalog().repositories.get("pruned-ws"))?.prune?.last).toMatchObject({
      drillId: job?.id,
      status: "PASSED",
    });
    // One prune per forget: the next dispatcher run starts none.
    await stack.runScheduled("drillDispatcher");
    expect(await pruneJobs("pruned-ws")).toHaveLength(1);
    const shown = await stack.cli(["drill", "show", job?.id as string]);
    expect(shown.stdout).toMatch(/^job\s+restic prune of repository pruned-ws$/m);
    expect(shown.stdout).toMatch(/^restic-prune\s+passed\s/m);

    // An operator may prune now; a repository that is not registered is named, with what to do.
    const manual = await stack.cli(["restic", "prune", "pruned-ws", "--wait", "--json"]);
    expect(manual.code, manual.stderr).toBe(0);
    expect(JSON.parse(manual.stdout)).toMatchObject({ kind: "prune", status: "PASSED", trigger: "manual" });
    const unknown = await stack.cli(["restic", "prune", "no-such-repo"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no restic repository named no-such-repo: add it with restorable restic add-repo");
    // No identity but the prune instances' may delete a pack; the drill's instance is gone.
    expect(await drillInstancesLeftRunning()).toEqual([]);
    await fixture.cleanup();
  }, 300_000);
});

const fullCatalog = () => openCatalog(stack.dynamo, stack.deployment.table);

async function pruneJobs(repository: string): Promise<DrillRecord[]> {
  return fullCatalog().drills.listBySource(`prune:${repository}`);
}

async function waitForPruneJobs(repository: string, count: number): Promise<DrillRecord[]> {
  const deadline = Date.now() + 240_000;
  for (;;) {
    const jobs = await pruneJobs(repository);
    if (jobs.length >= count && jobs.every((job) => job.status !== "RUNNING")) return jobs;
    if (Date.now() > deadline) throw new Error(`prune jobs of ${repository}: ${JSON.stringify(jobs)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Bytes of the current objects under a prefix (what a repository holds now). */
async function currentBytes(prefix: string): Promise<number> {
  let total = 0;
  let token: string | undefined;
  do {
    const page = await stack.s3.send(
      new ListObjectsV2Command({ Bucket: stack.deployment.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) total += object.Size ?? 0;
    token = page.NextContinuationToken;
  } while (token);
  return total;
}
