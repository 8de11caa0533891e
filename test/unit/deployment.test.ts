import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveDeployment } from "../../cli/deployment";

async function workspaceWithLocalStack(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "restorable-deployment-"));
  await mkdir(path.join(root, ".restorable"));
  await writeFile(
    path.join(root, ".restorable", "local.json"),
    JSON.stringify({
      kind: "restorable-local-stack",
      region: "us-east-1",
      endpoint: "http://127.0.0.1:4580",
      bucket: "local-bucket",
      table: "local-table",
      pid: 1,
      startedAt: "2026-01-01T00:00:00.000Z",
    }),
  );
  const nested = path.join(root, "some", "where");
  await mkdir(nested, { recursive: true });
  return nested;
}

describe("finding the deployment", () => {
  it("prefers flags, then RESTORABLE_* variables, then the local stack file found upwards", async () => {
    const cwd = await workspaceWithLocalStack();
    const env = { RESTORABLE_TABLE: "env-table" };

    const { deployment, origin } = await resolveDeployment({ bucket: "flag-bucket" }, env, cwd);

    expect(deployment).toMatchObject({
      bucket: "flag-bucket",
      table: "env-table",
      region: "us-east-1",
      endpoint: "http://127.0.0.1:4580",
    });
    expect(origin).toMatch(/^flags, RESTORABLE_\* environment, .*local\.json$/);
  });

  it("uses the local stack file alone when nothing else is given", async () => {
    const { deployment } = await resolveDeployment({}, {}, await workspaceWithLocalStack());
    expect(deployment).toEqual({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:4580",
      bucket: "local-bucket",
      table: "local-table",
    });
  });

  it("rejects a local stack file that is not one", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "restorable-deployment-"));
    await mkdir(path.join(root, ".restorable"));
    await writeFile(path.join(root, ".restorable", "local.json"), "{}");
    await expect(resolveDeployment({}, {}, root)).rejects.toThrow(/invalid local stack file/);
  });
});
