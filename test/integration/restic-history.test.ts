import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PurgeQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localClients } from "../../cli/local/clients";
import { type LocalHandlers, startLocalHandlers } from "../../cli/local/handlers";
import { type RunningEmulator, startEmulator } from "../../cli/local/moto";
import { provision, resourceNames } from "../../cli/local/provision";
import type { Alert } from "../../shared/catalog/alerts";
import { type Catalog, openCatalog } from "../../shared/catalog/dynamo/open";
import type { Deployment } from "../../shared/contracts/deployment";
import { policyDocument, resticHostStatements } from "../../shared/contracts/host-access";
import { silentLog } from "../../shared/log";
import { makeResticFixture, type ResticAccess, restic, resticJson } from "../support/restic";
import { KEEP_ONLY_THE_NEWEST } from "../support/retention-flags";
import { REGION, runCli } from "../support/stack";

/**
 * An emulator of its own with IAM enforced after its first three requests (which make an administrator):
 * the workspace runs plain restic with exactly the restic host policy, the service runs as the administrator.
 */
let emulator: RunningEmulator;
let deployment: Deployment & { endpoint: string };
let handlers: LocalHandlers;
let catalog: Catalog;
let admin: { accessKeyId: string; secretAccessKey: string };
let workspace: ResticAccess;
let hostS3: S3Client;
const REPOSITORY = "workspaces";
const PASSWORD = "correct horse battery staple";

async function user(iam: IAMClient, name: string, policy: object) {
  await iam.send(new CreateUserCommand({ UserName: name }));
  await iam.send(
    new PutUserPolicyCommand({ UserName: name, PolicyName: "access", PolicyDocument: JSON.stringify(policy) }),
  );
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  return {
    accessKeyId: key.AccessKey?.AccessKeyId as string,
    secretAccessKey: key.AccessKey?.SecretAccessKey as string,
  };
}

const cli = (args: string[]) =>
  runCli(args, {
    env: {
      RESTORABLE_BUCKET: deployment.bucket,
      RESTORABLE_TABLE: deployment.table,
      RESTORABLE_REGION: REGION,
      RESTORABLE_ENDPOINT: deployment.endpoint,
      RESTORABLE_QUEUE_URL: deployment.queueUrl,
      AWS_ACCESS_KEY_ID: admin.accessKeyId,
      AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
    },
  });

/** One reconcile cycle of the service: events first, then the scheduled reconciler and what it hands over. */
async function serviceCatchesUp(): Promise<void> {
  await handlers.pump.drain();
  await handlers.runScheduled("reconciler");
}

const replacedAlerts = async (): Promise<Alert[]> =>
  (await catalog.alerts.recent(1000)).filter((alert) => alert.kind === "history-replaced");

beforeAll(async () => {
  emulator = await startEmulator({ environment: { INITIAL_NO_AUTH_ACTION_COUNT: "3" } });
  const iam = new IAMClient({ region: REGION, endpoint: emulator.endpoint });
  admin = await user(
    iam,
    "administrator",
    policyDocument([{ Sid: "Everything", Effect: "Allow", Action: ["*"], Resource: ["*"] }]),
  );
  const clients = localClients({ endpoint: emulator.endpoint, region: REGION, credentials: admin });
  const asAdmin = { region: REGION, endpoint: emulator.endpoint, credentials: admin };
  deployment = { ...(await provision(resourceNames("restic-history"), REGION, clients)), endpoint: emulator.endpoint };
  catalog = openCatalog(clients.dynamo, deployment.table);
  handlers = startLocalHandlers({
    deployment,
    region: REGION,
    clients,
    log: silentLog,
    run: false,
    retryAfterSeconds: 0,
  });
  const host = await user(
    new IAMClient(asAdmin),
    "workspace-host",
    policyDocument(resticHostStatements({ bucketArn: `arn:aws:s3:::${deployment.bucket}` }, REPOSITORY)),
  );
  hostS3 = new S3Client({ region: REGION, endpoint: emulator.endpoint, forcePathStyle: true, credentials: host });
  workspace = {
    repository: `s3:${emulator.endpoint}/${deployment.bucket}/restic/${REPOSITORY}`,
    password: PASSWORD,
    env: {
      AWS_ACCESS_KEY_ID: host.accessKeyId,
      AWS_SECRET_ACCESS_KEY: host.secretAccessKey,
      AWS_DEFAULT_REGION: REGION,
    },
  };
  const passwordFile = path.join(await mkdtemp(path.join(tmpdir(), "restorable-restic-history-")), "password");
  await writeFile(passwordFile, `${PASSWORD}\n`);
  const added = await cli(["restic", "add-repo", REPOSITORY, "--password-file", passwordFile, "--no-check"]);
  expect(added.code, added.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await handlers?.stop();
  await emulator?.stop();
});

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await hostS3.send(new ListObjectsV2Command({ Bucket: deployment.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key as string).sort();
}

describe("a workspace that overwrites its restic repository", () => {
  it("gets every overwritten file put back within one reconcile cycle, restic check passes, one alert per file", async () => {
    await makeResticFixture(workspace);
    await serviceCatchesUp();
    const before = await resticJson<{ id: string }[]>(["snapshots"], workspace);
    expect(before).toHaveLength(2);

    const prefix = `restic/${REPOSITORY}/`;
    const [keyFile] = await keysUnder(`${prefix}keys/`);
    const [snapshotFile] = await keysUnder(`${prefix}snapshots/`);
    const [pack] = await keysUnder(`${prefix}data/`);
    const damaged = [keyFile, `${prefix}config`, snapshotFile, pack] as string[];
    // The host policy lets the workspace overwrite any file of its repository: restic cannot send If-None-Match.
    for (const key of damaged) {
      await hostS3.send(new PutObjectCommand({ Bucket: deployment.bucket, Key: key, Body: "garbage" }));
    }
    await expect(restic(["snapshots"], workspace)).rejects.toThrow();

    await serviceCatchesUp();

    const after = await resticJson<{ id: string }[]>(["snapshots"], workspace);
    expect(after.map((s) => s.id).sort()).toEqual(before.map((s) => s.id).sort());
    await restic(["check", "--read-data"], workspace);
    const alerts = await replacedAlerts();
    expect(alerts.map((alert) => alert.details.key).sort()).toEqual([...damaged].sort());
    // Nothing in the catalog turned CORRUPT on the way.
    for (const snapshot of before) expect((await catalog.backups.getBackup(snapshot.id))?.status).toBe("COMPLETE");
  }, 180_000);

  it("raises no alert for the lock files normal restic runs and a cloud-side forget write and remove", async () => {
    const alertsBefore = (await catalog.alerts.recent(1000)).length;
    const fixtureDirectory = await mkdtemp(path.join(tmpdir(), "restorable-restic-locks-"));
    await writeFile(path.join(fixtureDirectory, "file"), "more work\n");
    await restic(["backup", fixtureDirectory, "--host", "ws1", "--tag", "workspace-id:abc"], workspace);
    await restic(["snapshots"], workspace);
    await restic(["check"], workspace);
    await serviceCatchesUp();
    const sources = await catalog.backups.listSources();
    // The fixture's workspace: two snapshots, so keeping the last one forgets the other.
    const source = sources.find((s) => s.source.includes("workspace-owner:john"))?.source as string;
    const set = await cli(["retention", "set-policy", "--source", source, ...KEEP_ONLY_THE_NEWEST]);
    expect(set.code, set.stderr).toBe(0);
    const applied = await cli(["retention", "apply", "--source", source, "--json"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).applied[0].outcome.removed).toHaveLength(1);
    await serviceCatchesUp();
    await restic(["check"], workspace);
    expect((await catalog.alerts.recent(1000)).length).toBe(alertsBefore);
  }, 180_000);

  it("puts back an overwritten snapshot file that a re-index finds, its event lost, as its own event would", async () => {
    const prefix = `restic/${REPOSITORY}/snapshots/`;
    const snapshotFiles = await keysUnder(prefix);
    // A batch: the re-index hands the indexer every snapshot file of the repository in one message.
    expect(snapshotFiles.length).toBeGreaterThanOrEqual(2);
    const before = await resticJson<{ id: string }[]>(["snapshots"], workspace);
    const overwritten = snapshotFiles[snapshotFiles.length - 1] as string;
    const alertsFor = async () => (await replacedAlerts()).filter((alert) => alert.details.key === overwritten);
    const alertsBefore = (await alertsFor()).length;
    await hostS3.send(new PutObjectCommand({ Bucket: deployment.bucket, Key: overwritten, Body: "garbage" }));
    // The overwrite's event never arrives.
    await new SQSClient({ region: REGION, endpoint: emulator.endpoint, credentials: admin }).send(
      new PurgeQueueCommand({ QueueUrl: deployment.queueUrl }),
    );
    // restic skips the file it cannot read: one snapshot fewer until it is put back.
    expect(await resticJson<{ id: string }[]>(["snapshots"], workspace)).toHaveLength(before.length - 1);

    const reindexed = await cli(["restic", "reindex", REPOSITORY]);
    expect(reindexed.code, reindexed.stderr).toBe(0);
    await handlers.pump.drain();

    expect((await resticJson<{ id: string }[]>(["snapshots"], workspace)).map((s) => s.id).sort()).toEqual(
      before.map((s) => s.id).sort(),
    );
    expect(await alertsFor()).toHaveLength(alertsBefore + 1);
    for (const snapshot of before) expect((await catalog.backups.getBackup(snapshot.id))?.status).toBe("COMPLETE");
  }, 180_000);
});
