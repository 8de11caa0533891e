import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../cli/local/moto";
import { RestorableStack } from "../../infra/restorable-stack";
import { postgresAt } from "../support/postgres";
import { makeResticFixture } from "../support/restic";
import { writeSeedBackup } from "../support/seed-backup";
import { CLI, runCli } from "../support/stack";

let localStack: ChildProcess | undefined;

afterAll(() => {
  localStack?.kill("SIGKILL");
});

const RESTIC_PASSWORD = "leak-canary-restic-Zq8vW2pL";
const WRONG_PASSWORD = "leak-canary-wrong-Hx4tR9mN";
const IMPORTED_KEY = "bGVhay1jYW5hcnktbWFzdGVyLWtleS1tYXRlcmlhbA==";

/** Every place a secret could end up, after a full run of the local stack as operators use it. */
describe("secrets", () => {
  it("appear in no log, Lambda environment, CLI output, catalog item, alert or stored plan", async () => {
    const workspace = await mkdtemp(path.join(tmpdir(), "restorable-leaks-"));
    const stateFile = path.join(workspace, ".restorable", "local.json");
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [CLI, "local", "start", "--port", String(port), "--state-file", stateFile, "--verbose"],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, AWS_ENDPOINT_URL: undefined, POWERTOOLS_LOG_LEVEL: "DEBUG" },
      },
    );
    localStack = child;
    let logs = "";
    child.stdout?.setEncoding("utf-8").on("data", (text: string) => (logs += text));
    child.stderr?.setEncoding("utf-8").on("data", (text: string) => (logs += text));
    for (const deadline = Date.now() + 60_000; !logs.includes("\nready\n"); ) {
      if (Date.now() > deadline) throw new Error(`local stack did not start:\n${logs}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const state = JSON.parse(readFileSync(stateFile, "utf-8")) as {
      bucket: string;
      table: string;
      masterKeySecret: string;
    };
    const aws = {
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    };
    const env = { AWS_ENDPOINT_URL: undefined, RESTORABLE_BUCKET: undefined, RESTORABLE_TABLE: undefined };
    const outputs: string[] = [];
    const cli = async (...args: string[]) => {
      const result = await runCli(args, { cwd: workspace, env });
      outputs.push(result.stdout, result.stderr);
      return result;
    };
    const settle = () => new Promise((resolve) => setTimeout(resolve, 6000));

    const generatedKey = JSON.parse(
      (await new SecretsManagerClient(aws).send(new GetSecretValueCommand({ SecretId: state.masterKeySecret })))
        .SecretString as string,
    ).key as string;

    // Dump sets, restic with a wrong and then the right password, the master key, retention, the audit.
    const { directory } = await writeSeedBackup(postgresAt(inject("postgresPort")), { rows: 10 });
    expect((await cli("push", directory, "--source", "leaky")).code).toBe(0);
    await writeFile(path.join(workspace, "wrong"), WRONG_PASSWORD);
    await writeFile(path.join(workspace, "right"), RESTIC_PASSWORD);
    const added = await cli("restic", "add-repo", "canary", "--password-file", path.join(workspace, "wrong"), "--json");
    await makeResticFixture({
      repository: JSON.parse(added.stdout).url,
      password: RESTIC_PASSWORD,
      env: { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "x", AWS_DEFAULT_REGION: "us-east-1" },
    });
    await settle();
    await cli("restic", "set-password", "canary", "--password-file", path.join(workspace, "right"));
    await settle();
    await cli("restic", "list-repos");
    await cli("restic", "verify", "canary", "--all");
    await writeFile(path.join(workspace, "master.key"), IMPORTED_KEY);
    await cli("key", "register");
    await cli("key", "import", "--key-file", path.join(workspace, "master.key"), "--key-id", "mk-canary");
    await cli("key", "split", "--shares", "3", "--threshold", "2", "--out", path.join(workspace, "shares"));
    const shares = (await readdir(path.join(workspace, "shares"))).map((file) => path.join(workspace, "shares", file));
    await cli("key", "combine", ...shares.slice(0, 2), "--store");
    await cli(
      "retention",
      "set-policy",
      "--repo",
      "canary",
      "--keep-last",
      "1",
      "--floor-keep-newest",
      "0",
      "--floor-protect-hours",
      "0",
      "--floor-max-removal-percent",
      "100",
    );
    await cli("retention", "plan", "--json");
    await cli("retention", "apply");
    await cli("bucket", "audit");
    await cli("alerts", "--json");
    await cli("catalog", "list", "--json");
    await cli("catalog", "list", "--repo", "canary", "--json");
    await settle();

    const items = JSON.stringify(
      (await new DynamoDBClient(aws).send(new ScanCommand({ TableName: state.table }))).Items,
    );
    const s3 = new S3Client({ ...aws, forcePathStyle: true });
    const plans = await s3.send(new ListObjectsV2Command({ Bucket: state.bucket, Prefix: "retention/plans/" }));
    let storedPlans = "";
    for (const plan of plans.Contents ?? []) {
      storedPlans += await (
        await s3.send(new GetObjectCommand({ Bucket: state.bucket, Key: plan.Key }))
      ).Body?.transformToString();
    }
    const environment = readFileSync(`/proc/${child.pid}/environ`, "utf-8");
    const shareFiles = (await Promise.all(shares.map((file) => readFile(file, "utf-8")))).join("\n");
    const template = JSON.stringify(Template.fromStack(new RestorableStack(new App(), "Leaks")).toJSON());
    const functionEnvironments = JSON.stringify(
      Object.values(
        Template.fromStack(new RestorableStack(new App(), "Env")).findResources("AWS::Lambda::Function"),
      ).map((fn) => fn.Properties.Environment),
    );

    const places = {
      "local stack logs": logs,
      "CLI output": outputs.join("\n"),
      "catalog items and alerts": items,
      "stored retention plans": storedPlans,
      "local stack environment": environment,
      "share files": shareFiles,
      "Lambda environment variables": functionEnvironments,
      "CloudFormation template": template,
    };
    const secrets = { RESTIC_PASSWORD, WRONG_PASSWORD, IMPORTED_KEY, generatedKey };
    for (const [where, text] of Object.entries(places)) {
      for (const [name, secret] of Object.entries(secrets)) {
        expect(text.includes(secret), `${name} found in ${where}`).toBe(false);
      }
    }
    // The run did happen: the places are not empty, and the restic snapshots were indexed.
    expect(items).toContain("restic:canary");
    expect(logs.length).toBeGreaterThan(1000);
    expect(storedPlans).toContain("canary");

    child.kill("SIGINT");
    await new Promise((resolve) => child.once("exit", resolve));
  });
});
