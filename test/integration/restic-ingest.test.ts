import { randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { localClients } from "../../cli/local/clients";
import type { EventPump } from "../../cli/local/event-pump";
import { startLocalHandlers } from "../../cli/local/handlers";
import { DynamoProblemStore } from "../../shared/catalog/dynamo/problem-store";
import { DynamoRepositoryStore } from "../../shared/catalog/dynamo/repository-store";
import type { BackupEntry, ResticSnapshotEntry } from "../../shared/catalog/entry";
import { silentLog } from "../../shared/log";
import { resticFileId } from "../../shared/restic/files";
import { resticSecretName } from "../../shared/restic/repository";
import { parseResticTime } from "../../shared/restic/time";
import { makeResticFixture, type ResticAccess, restic, resticJson, WORKSPACE_BACKUP } from "../support/restic";
import { REGION, startTestStack, type TestStack } from "../support/stack";

let stack: TestStack;
let passwordFile: string;
let wrongPasswordFile: string;

interface ResticSnapshotJson {
  id: string;
  time: string;
  hostname: string;
  username: string;
  paths: string[];
  tags?: string[];
  tree: string;
  parent?: string;
}

beforeAll(async () => {
  stack = await startTestStack("restic");
  const directory = await mkdtemp(path.join(tmpdir(), "restorable-passwords-"));
  passwordFile = path.join(directory, "password");
  wrongPasswordFile = path.join(directory, "wrong");
  await writeFile(passwordFile, "correct horse battery staple\n");
  await writeFile(wrongPasswordFile, "not the password\n");
});

/** The indexer as a new Lambda instance runs it: nothing cached yet (passwords, master keys). */
function freshIndexer(): EventPump {
  const clients = localClients({ endpoint: stack.deployment.endpoint, region: REGION });
  return startLocalHandlers({ deployment: stack.deployment, region: REGION, clients, log: silentLog, run: false }).pump;
}

/** Registers a repository through the CLI, as an operator would, and returns how restic reaches it. */
async function addRepository(name: string, file = passwordFile, extra: string[] = []): Promise<ResticAccess> {
  const added = await stack.cli(["restic", "add-repo", name, "--password-file", file, "--json", ...extra]);
  expect(added.code, added.stderr).toBe(0);
  const { url, env } = JSON.parse(added.stdout) as { url: string; env: Record<string, string> };
  expect(url).toBe(`s3:${stack.deployment.endpoint}/${stack.deployment.bucket}/restic/${name}`);
  // restic reaches the emulator with exactly the environment add-repo prints (without it: "no credentials found").
  expect(Object.keys(env).sort()).toEqual(["AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION", "AWS_SECRET_ACCESS_KEY"]);
  return { repository: url, password: "correct horse battery staple", env: { ...env, TZ: "Europe/Berlin" } };
}

const workspace = (id: string, owner: string, name: string) => [
  `workspace-id:${id}`,
  `workspace-owner:${owner}`,
  `workspace-name:${name}`,
];

function expectSameSnapshots(catalog: BackupEntry[], snapshots: ResticSnapshotJson[]): void {
  const byId = new Map(catalog.map((entry) => [entry.id, entry as ResticSnapshotEntry]));
  expect([...byId.keys()].sort()).toEqual(snapshots.map((s) => s.id).sort());
  for (const snapshot of snapshots) {
    const entry = byId.get(snapshot.id);
    expect(entry?.status, snapshot.id).toBe("COMPLETE");
    expect({
      id: entry?.id,
      time: parseResticTime(entry?.resticTime ?? "").epochNanoseconds,
      hostname: entry?.hostname,
      username: entry?.username,
      paths: entry?.paths,
      tags: entry?.tags,
      tree: entry?.tree,
      parent: entry?.parent,
    }).toEqual({
      id: snapshot.id,
      time: parseResticTime(snapshot.time).epochNanoseconds,
      hostname: snapshot.hostname,
      username: snapshot.username,
      paths: snapshot.paths,
      tags: snapshot.tags ?? [],
      tree: snapshot.tree,
      parent: snapshot.parent ?? null,
    });
  }
}

describe.each([1, 2] as const)("a restic repository of format %i written by plain restic", (version) => {
  it("is cataloged field for field as restic snapshots --json lists it, grouped and filtered as restic does", async () => {
    const name = `ws-v${version}`;
    const access = await addRepository(name);
    const fixture = await makeResticFixture({
      ...access,
      repositoryVersion: version,
      backups: [
        { host: "ws1", tags: workspace("abc", "john", "dev"), time: "2025-01-02 03:04:05" },
        { host: "ws1", tags: workspace("abc", "john", "dev"), time: "2025-01-03 03:04:05" },
        { host: "ws2", tags: workspace("def", "mary", "dev"), time: "2025-01-03 09:00:00" },
        { host: "ws3", tags: workspace("ghi", "john", "scratch"), time: "2025-02-01 12:30:00" },
      ],
    });
    await stack.pump.drain();

    const snapshots = await resticJson<ResticSnapshotJson[]>(["snapshots"], access);
    expect(snapshots).toHaveLength(4);
    expectSameSnapshots(await stack.catalog.listByRepository(name), snapshots);
    const latest = await stack.catalog.getBackup(fixture.snapshotIds[1] as string);
    expect(latest).toMatchObject({
      programVersion: expect.stringMatching(/^restic 0\.1[6-9]/),
      summary: expect.any(Object),
    });

    // restic snapshots --tag workspace-owner:john
    const johns = await stack.cli(["catalog", "list", "--repo", name, "--tag", "workspace-owner:john", "--json"]);
    const resticJohns = await resticJson<ResticSnapshotJson[]>(["snapshots", "--tag", "workspace-owner:john"], access);
    expect(
      JSON.parse(johns.stdout)
        .backups.map((b: BackupEntry) => b.id)
        .sort(),
    ).toEqual(resticJohns.map((s) => s.id).sort());

    // restic snapshots --group-by tags
    const grouped = await stack.cli(["catalog", "list", "--repo", name, "--group-by", "tags", "--json"]);
    const resticGrouped = await resticJson<{ group_key: { tags: string[] }; snapshots: ResticSnapshotJson[] }[]>(
      ["snapshots", "--group-by", "tags"],
      access,
    );
    const shape = (groups: { group_key: { tags: string[] }; snapshots: { id: string }[] }[]) =>
      groups
        .map((g) => ({ tags: [...g.group_key.tags].sort(), ids: g.snapshots.map((s) => s.id).sort() }))
        .sort((a, b) => a.tags.join().localeCompare(b.tags.join()));
    expect(shape(JSON.parse(grouped.stdout))).toEqual(shape(resticGrouped));

    // Each workspace (host + tags) is a source of its own.
    const sources = (await stack.catalog.listSources()).filter((s) => s.source.startsWith(`restic:${name} `));
    expect(sources.map((s) => s.source).sort()).toEqual([
      `restic:${name} host [ws1] tags [workspace-id:abc, workspace-name:dev, workspace-owner:john]`,
      `restic:${name} host [ws2] tags [workspace-id:def, workspace-name:dev, workspace-owner:mary]`,
      `restic:${name} host [ws3] tags [workspace-id:ghi, workspace-name:scratch, workspace-owner:john]`,
    ]);

    // restic forget: the entry becomes FORGOTTEN, with when, and stays in the catalog.
    const forgotten = fixture.snapshotIds[0] as string;
    await restic(["forget", forgotten], access);
    await stack.pump.drain();
    // S3 sends ObjectRemoved:DeleteMarkerCreated; the emulator does not, and the reconciler catches that.
    await stack.runScheduled("reconciler");
    expect(await stack.catalog.getBackup(forgotten)).toMatchObject({
      status: "FORGOTTEN",
      forgottenAt: expect.any(String),
      statusReason: "the snapshot file was deleted from the repository (restic forget)",
    });
    await fixture.cleanup();
  });
});

describe("a repository restic wrote to before it was registered", () => {
  it("is backfilled by add-repo: every snapshot indexed, in batches, as restic snapshots --json lists it", async () => {
    const name = "ws-backfill";
    // The same environment add-repo prints, for a repository it has not registered yet.
    const env = (await addRepository("ws-backfill-env")).env;
    const access: ResticAccess = {
      repository: `s3:${stack.deployment.endpoint}/${stack.deployment.bucket}/restic/${name}`,
      password: "correct horse battery staple",
      env,
    };
    const fixture = await makeResticFixture({
      ...access,
      backups: Array.from({ length: 6 }, (_, day) => ({
        host: `ws${day % 3}`,
        tags: workspace(`w${day % 3}`, "john", "dev"),
        time: `2025-03-0${day + 1} 02:00:00`,
      })),
    });
    await stack.pump.drain();
    // Their events came first: nothing could decrypt them.
    const before = await stack.catalog.listByRepository(name);
    expect(before.map((entry) => entry.status)).toEqual(Array(6).fill("UNREADABLE"));

    const added = await stack.cli(["restic", "add-repo", name, "--password-file", passwordFile, "--json"]);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ passwordCheck: "opens", backfilled: 6 });
    const received = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.deployment.queueUrl as string,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
      }),
    );
    // One message carries every snapshot file (S3's own carry one each).
    expect(received.Messages?.map((message) => JSON.parse(message.Body as string).Records.length)).toEqual([6]);
    await stack.pump.drain();

    expectSameSnapshots(
      await stack.catalog.listByRepository(name),
      await resticJson<ResticSnapshotJson[]>(["snapshots"], access),
    );
    const sources = (await stack.catalog.listSources()).filter((s) => s.source.startsWith(`restic:${name} `));
    expect(sources).toHaveLength(3);
    for (const source of sources) expect(source.latestComplete?.createdAt).toMatch(/^2025-03-0[4-6]/);
    await fixture.cleanup();
  });
});

describe("a legal hold put on with restic tag", () => {
  it("keeps the rewritten snapshot in its source as one entry, held, and never marks the old id FORGOTTEN", async () => {
    const access = await addRepository("held");
    const fixture = await makeResticFixture(access);
    await stack.pump.drain();
    const [older, newer] = fixture.snapshotIds as [string, string];
    const source = (await stack.catalog.getBackup(older))?.source as string;
    expect(source).toBe("restic:held host [ws1] tags [workspace-id:abc, workspace-owner:john]");

    // The catalog finds the snapshot by restic's short id, and sends the operator to restic to tag it.
    const refused = await stack.cli(["catalog", "tag", older.slice(0, 8), "--add", "legal-hold"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `tag restic snapshots in their repository: restic tag --add legal-hold ${older.slice(0, 8)}`,
    );

    // restic writes the tagged snapshot under a new id (recording the old one as `original`), then deletes the old file.
    await restic(["tag", "--add", "legal-hold", older.slice(0, 8)], access);
    await stack.pump.drain();
    await stack.runScheduled("reconciler");
    await stack.pump.drain();

    const snapshots = await resticJson<(ResticSnapshotJson & { original?: string })[]>(["snapshots"], access);
    const held = snapshots.find((snapshot) => snapshot.original === older);
    expect(held?.tags).toContain("legal-hold");
    const rewritten = (await stack.catalog.getBackup(held?.id as string)) as ResticSnapshotEntry;
    expect(rewritten).toMatchObject({ status: "COMPLETE", source, original: older });
    expect(await stack.catalog.getBackup(older)).toMatchObject({ status: "REWRITTEN", rewrittenAs: held?.id });

    const shownNew = await stack.cli(["catalog", "show", String(held?.id).slice(0, 8)]);
    expect(shownNew.code, shownNew.stderr).toBe(0);
    expect(shownNew.stdout).toMatch(new RegExp(`^original\\s+${older}$`, "m"));
    const shownOld = await stack.cli(["catalog", "show", older.slice(0, 8)]);
    expect(shownOld.stdout).toMatch(/^status\s+REWRITTEN/m);
    expect(shownOld.stdout).toMatch(new RegExp(`^rewritten as\\s+${held?.id}$`, "m"));

    const live = (await stack.catalog.listBySource(source)).filter((entry) => entry.status !== "REWRITTEN");
    expect(live.map((entry) => entry.id).sort()).toEqual([held?.id, newer].sort());
    const policy = ["--keep-last", "1", "--floor-keep-newest", "0", "--floor-max-removal-percent", "100"];
    const set = await stack.cli([
      "retention",
      "set-policy",
      "--source",
      source,
      ...policy,
      "--floor-protect-hours",
      "0",
    ]);
    expect(set.code, set.stderr).toBe(0);
    const tried = await stack.cli(["retention", "plan", "--source", source, "--json"]);
    expect(tried.code, tried.stderr).toBe(0);
    const [plan] = JSON.parse(tried.stdout);
    expect(plan.remove).toEqual([]);
    expect(
      plan.reasons.find((reason: { snapshot: { id: string } }) => reason.snapshot.id === held?.id).matches,
    ).toContain("safety floor: legal hold (tag legal-hold)");
    await fixture.cleanup();
  });
});

describe("verifying a repository without its password", () => {
  it("reports a data file with a flipped byte, and covers the repository slice by slice", async () => {
    const access = await addRepository("flipped", passwordFile, ["--verify-slices", "4"]);
    await makeResticFixture({ ...access, repositoryVersion: 2 });
    await stack.pump.drain();

    const clean = await stack.cli(["restic", "verify", "flipped", "--all", "--json"]);
    expect(clean.code, clean.stderr).toBe(0);
    const cleanReports = JSON.parse(clean.stdout).reports as {
      slicesCovered: number;
      fullyVerifiedSince: string | null;
      openMismatches: string[];
    }[];
    expect(cleanReports.at(-1)).toMatchObject({ slicesCovered: 4, openMismatches: [] });
    expect(cleanReports.at(-1)?.fullyVerifiedSince).not.toBeNull();

    const dataKey = await firstKey("restic/flipped/data/");
    const original = await (
      await stack.s3.send(new GetObjectCommand({ Bucket: stack.deployment.bucket, Key: dataKey }))
    ).Body?.transformToByteArray();
    const flipped = Buffer.from(original as Uint8Array);
    const middle = Math.floor(flipped.length / 2);
    flipped[middle] = (flipped[middle] as number) ^ 0x01;
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.deployment.bucket, Key: dataKey, Body: flipped }));

    const found = await stack.cli(["restic", "verify", "flipped", "--all"]);
    expect(found.code, found.stdout + found.stderr).toBe(1);
    expect(found.stdout).toContain(`1 file(s) do not hash to their name:\n  ${dataKey}`);
    const listed = await stack.cli(["restic", "list-repos", "--json"]);
    const repository = JSON.parse(listed.stdout).repositories.find((r: { name: string }) => r.name === "flipped");
    expect(Object.keys(repository.verification.openMismatches)).toEqual([dataKey]);
    const table = await stack.cli(["restic", "list-repos"]);
    expect(table.stdout).toMatch(/flipped\s+no snapshot yet|flipped\s+OK/);
    expect(table.stdout).toContain("CORRUPT: 1 file does not hash to their name");
  });
});

describe("a wrong password in Secrets Manager", () => {
  it("records the snapshots UNREADABLE with a clear reason, and indexes them once the password is fixed", async () => {
    const access = await addRepository("mistyped", wrongPasswordFile);
    const fixture = await makeResticFixture({ ...access, repositoryVersion: 2 });
    await stack.pump.drain();

    for (const id of fixture.snapshotIds) {
      expect(await stack.catalog.getBackup(id)).toMatchObject({
        status: "UNREADABLE",
        statusReason: expect.stringContaining("no key of repository mistyped opens with the password in restorable/"),
      });
    }
    const repositories = new DynamoRepositoryStore(stack.dynamo, stack.deployment.table);
    expect((await repositories.get("mistyped"))?.health?.status).toBe("UNREADABLE");

    const fixed = await stack.cli(["restic", "set-password", "mistyped", "--password-file", passwordFile], {
      env: { RESTORABLE_QUEUE_URL: stack.deployment.queueUrl },
    });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain("Queued 2 snapshot files for re-indexing.");
    // The indexer caches a password for a minute; a fresh handler (a new Lambda) sees the new one at once.
    await stack.pump.drain();
    const snapshots = await resticJson<ResticSnapshotJson[]>(["snapshots"], access);
    const after = await stack.catalog.listByRepository("mistyped");
    if (after.some((entry) => entry.status !== "COMPLETE")) {
      throw new Error(`still unreadable after re-drive: ${after.map((e) => `${e.id}=${e.status}`).join(", ")}`);
    }
    expectSameSnapshots(after, snapshots);
    expect((await repositories.get("mistyped"))?.health?.status).toBe("OK");
  });

  it("shows a source's newest snapshot UNREADABLE in catalog list, not its last readable one as the latest", async () => {
    const access = await addRepository("rotated");
    const fixture = await makeResticFixture({ ...access, repositoryVersion: 2 });
    await stack.pump.drain();
    const source = (await stack.catalog.getBackup(fixture.snapshotIds[1] as string))?.source as string;
    const row = (text: string) => text.split("\n").find((line) => line.startsWith(`${source} `)) ?? "";
    expect(row((await stack.cli(["catalog", "list"])).stdout)).toMatch(/\sCOMPLETE\s/);

    // A mistaken rotation stores a password that opens nothing; the host's next snapshot cannot be read.
    const stored = await stack.cli([
      "restic",
      "set-password",
      "rotated",
      "--password-file",
      wrongPasswordFile,
      "--no-check",
      "--no-reindex",
    ]);
    expect(stored.code, stored.stderr).toBe(0);
    await fixture.backup({ ...WORKSPACE_BACKUP, time: "2025-01-04 03:04:05" });
    // A cold indexer (a new Lambda) reads the secret at once; the warm one keeps a password for a minute.
    await freshIndexer().drain();
    const newest = fixture.snapshotIds[2] as string;
    expect(await stack.catalog.getBackup(newest)).toMatchObject({ status: "UNREADABLE" });

    const listed = await stack.cli(["catalog", "list"]);
    expect(row(listed.stdout)).toMatch(/\sUNREADABLE \(newest\)\s/);
    expect(listed.stdout).toContain("(newest): restic repository rotated cannot be read since ");
    const json = await stack.cli(["catalog", "list", "--json"]);
    const entry = JSON.parse(json.stdout).sources.find((s: { source: string }) => s.source === source);
    expect(entry.newest).toMatchObject({ repository: "rotated", status: "UNREADABLE" });

    // Fixed: the snapshot is re-driven and read, and the list shows it as the latest, COMPLETE.
    const fixed = await stack.cli(["restic", "set-password", "rotated", "--password-file", passwordFile], {
      env: { RESTORABLE_QUEUE_URL: stack.deployment.queueUrl },
    });
    expect(fixed.code, fixed.stderr).toBe(0);
    await freshIndexer().drain();
    const after = row((await stack.cli(["catalog", "list"])).stdout);
    expect(after).toContain(newest.slice(0, 8));
    expect(after).toMatch(/\sCOMPLETE\s/);
    await fixture.cleanup();
  });

  it("is refused before it is stored once restic has initialised the repository, so nothing turns UNREADABLE", async () => {
    const access = await addRepository("guarded");
    const fixture = await makeResticFixture({ ...access, repositoryVersion: 2 });
    await stack.pump.drain();

    for (const command of ["set-password", "add-repo"]) {
      const refused = await stack.cli(["restic", command, "guarded", "--password-file", wrongPasswordFile]);
      expect(refused.code, refused.stdout).toBe(2);
      expect(refused.stderr).toContain("opens no key of restic repository guarded; nothing was stored");
    }
    const stored = await new SecretsManagerClient({ region: REGION }).send(
      new GetSecretValueCommand({ SecretId: resticSecretName(stack.deployment.bucket, "guarded") }),
    );
    expect(stored.SecretString).toBe("correct horse battery staple");
    for (const id of fixture.snapshotIds)
      expect(await stack.catalog.getBackup(id)).toMatchObject({ status: "COMPLETE" });

    const added = await stack.cli(["restic", "add-repo", "guarded", "--password-file", passwordFile, "--json"]);
    expect(JSON.parse(added.stdout)).toMatchObject({ created: false, passwordCheck: "opens" });
  });
});

describe("bad input in a restic prefix", () => {
  it("records each case with a reason and an alert-ready status, drops nothing, crashes on nothing", async () => {
    const access = await addRepository("odd");
    await makeResticFixture({ ...access, repositoryVersion: 2, backups: [{ host: "ws1" }] });
    await stack.pump.drain();
    const put = (key: string, body: Uint8Array | string) =>
      stack.s3.send(new PutObjectCommand({ Bucket: stack.deployment.bucket, Key: key, Body: body }));

    const garbled = randomBytes(300);
    const garbledId = resticFileId(garbled);
    await put(`restic/odd/snapshots/${garbledId}`, garbled);
    const original = await (
      await stack.s3.send(
        new GetObjectCommand({ Bucket: stack.deployment.bucket, Key: await firstKey("restic/odd/snapshots/") }),
      )
    ).Body?.transformToByteArray();
    const truncated = (original as Uint8Array).subarray(0, 40);
    const misnamed = "ab".repeat(32);
    await put(`restic/odd/snapshots/${misnamed}`, truncated);
    await put("restic/odd/snapshots/not-an-id", "x");
    await put(`restic/odd/locks/${"cd".repeat(32)}`, "a lock");
    const unknown = randomBytes(100);
    await put(`restic/never-registered/snapshots/${resticFileId(unknown)}`, unknown);

    const stillQueued = await stack.pump.drain();
    expect(stillQueued).toBeGreaterThan(0);

    expect(await stack.catalog.getBackup(garbledId)).toMatchObject({
      status: "CORRUPT",
      statusReason: expect.stringMatching(/MAC|authenticate/i),
    });
    expect(await stack.catalog.getBackup(misnamed)).toMatchObject({
      status: "CORRUPT",
      statusReason: expect.stringContaining("bytes hash to"),
    });
    expect(await stack.catalog.getBackup(resticFileId(unknown))).toMatchObject({
      status: "UNREADABLE",
      statusReason: "repository never-registered is not registered: run restorable restic add-repo never-registered",
    });
    const problems = await new DynamoProblemStore(stack.dynamo, stack.deployment.table).list();
    expect(problems.find((p) => p.key === "restic/odd/snapshots/not-an-id")).toMatchObject({
      reason: "a file in snapshots/ whose name is not a restic id",
    });
    expect(await stack.catalog.getBackup("cd".repeat(32))).toBeUndefined();
  });
});

async function firstKey(prefix: string): Promise<string> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.deployment.bucket, Prefix: prefix }));
  const key = listed.Contents?.[0]?.Key;
  if (!key) throw new Error(`nothing under ${prefix}`);
  return key;
}
