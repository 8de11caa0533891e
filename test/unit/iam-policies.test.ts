import type { EvaluationResult } from "@cloud-copilot/iam-simulate";
import { beforeAll, describe, expect, it } from "vitest";
import { STACK_OUTPUTS } from "../../shared/contracts/deployment";
import { FUNCTIONS, type FunctionName } from "../../shared/contracts/functions";
import { dumpSetHostStatements, resticHostStatements } from "../../shared/contracts/host-access";
import { commitRequestKey, componentKey, manifestKey } from "../../shared/contracts/layout";
import { resticSecretPrefix } from "../../shared/restic/repository";
import {
  ACCOUNT,
  BUCKET,
  BUCKET_ARN,
  evaluate,
  HOST_TARGET,
  hostIdentity,
  type IamRequest,
  type Identity,
  REGION,
  type SynthesizedPolicies,
  synthesizePolicies,
  TABLE_ARN,
} from "../support/iam";

// The emulator ignores condition keys; these tests evaluate the real documents, conditions included, with
// @cloud-copilot/iam-simulate. Stub function code keeps synthesis to seconds.
const SYNTH_TIMEOUT_MS = 30_000;

let synthesized: SynthesizedPolicies;
beforeAll(() => {
  synthesized = synthesizePolicies();
}, SYNTH_TIMEOUT_MS);

const SOURCE = "codebolt-prod";
const SET = "20250101T000000Z-0123456789ab";
const REPOSITORY = "workspaces";

const sourceHost = hostIdentity(`${SOURCE} host`, dumpSetHostStatements(HOST_TARGET, SOURCE));
const resticHost = hostIdentity(`${REPOSITORY} restic host`, resticHostStatements(HOST_TARGET, REPOSITORY));
const HOSTS = [sourceHost, resticHost];

const objectArn = (key: string) => `${BUCKET_ARN}/${key}`;
const onObject = (action: string, key: string, context: IamRequest["context"] = {}): IamRequest => ({
  action,
  resource: objectArn(key),
  context,
});
const onBucket = (action: string, context: IamRequest["context"] = {}): IamRequest => ({
  action,
  resource: BUCKET_ARN,
  context,
});
const listing = (prefix: string) => onBucket("s3:ListBucket", { "s3:prefix": prefix });

/** A PutObject that creates an object only if its key is absent (If-None-Match: *). */
const createIfAbsent = { "s3:if-none-match": "*", "s3:ObjectCreationOperation": "true" };
/** A PutObject (or CompleteMultipartUpload) without If-None-Match: it replaces whatever is at the key. */
const replacing = { "s3:ObjectCreationOperation": "true" };
/** CreateMultipartUpload and UploadPart: authorized as s3:PutObject, but create nothing yet. */
const uploadingParts = { "s3:ObjectCreationOperation": "false" };

const result = (identity: Identity, request: IamRequest) => evaluate(identity, request, synthesized.bucketPolicy);

function lambdaRole(name: FunctionName): Identity {
  const role = synthesized.lambdaRoles.find((r) => r.name === name);
  if (!role) throw new Error(`no Lambda role for ${name}`);
  return role;
}

/** Every identity's decision for one request, by identity name. */
async function resultsFor(identities: Identity[], request: IamRequest): Promise<Record<string, EvaluationResult>> {
  const results = await Promise.all(
    identities.map(async (identity) => [identity.name, await result(identity, request)]),
  );
  return Object.fromEntries(results);
}

/** The expected map: `otherwise` for every identity but those named. */
const expected = (identities: Identity[], named: Record<string, EvaluationResult>, otherwise: EvaluationResult) =>
  Object.fromEntries(identities.map((identity) => [identity.name, named[identity.name] ?? otherwise]));

const ours = Object.keys(FUNCTIONS) as FunctionName[];

describe("the policies under test", () => {
  it("include a role for every function contract, with statements, and the backup bucket's policy", () => {
    const names = synthesized.lambdaRoles.map((role) => role.name);
    expect(names).toEqual(expect.arrayContaining(ours));
    for (const name of ours)
      expect(lambdaRole(name).policies.flatMap((p) => p.policy.Statement).length).toBeGreaterThanOrEqual(2);
    expect(synthesized.bucketPolicy.Statement.length).toBeGreaterThan(0);
  });

  it("refuses a request without TLS from an identity that is otherwise allowed", async () => {
    const key = componentKey(SOURCE, SET, "main.dump");
    expect(await result(lambdaRole("indexer"), onObject("s3:GetObject", key))).toBe("Allowed");
    expect(await result(lambdaRole("indexer"), onObject("s3:GetObject", key, { "aws:SecureTransport": "false" }))).toBe(
      "ExplicitlyDenied",
    );
    expect(
      await result(sourceHost, onObject("s3:PutObject", key, { ...createIfAbsent, "aws:SecureTransport": "false" })),
    ).toBe("ExplicitlyDenied");
  });
});

describe("a dump-set host", () => {
  const component = componentKey(SOURCE, SET, "main.dump");

  it("creates a component of its own set only if the key is absent", async () => {
    expect(await result(sourceHost, onObject("s3:PutObject", component, createIfAbsent))).toBe("Allowed");
  });

  it("cannot replace a component (PutObject without If-None-Match)", async () => {
    expect(await result(sourceHost, onObject("s3:PutObject", component, replacing))).toBe("ImplicitlyDenied");
  });

  it("starts a multipart upload and uploads parts without If-None-Match", async () => {
    expect(await result(sourceHost, onObject("s3:PutObject", component, uploadingParts))).toBe("Allowed");
  });

  it("writes its own commit request", async () => {
    expect(await result(sourceHost, onObject("s3:PutObject", commitRequestKey(SOURCE, SET), replacing))).toBe(
      "Allowed",
    );
  });

  it("cannot write a committed manifest, even only-if-absent or by a multipart upload", async () => {
    expect(await result(sourceHost, onObject("s3:PutObject", manifestKey(SOURCE, SET), createIfAbsent))).toBe(
      "ExplicitlyDenied",
    );
    expect(await result(sourceHost, onObject("s3:PutObject", manifestKey(SOURCE, SET), uploadingParts))).toBe(
      "ExplicitlyDenied",
    );
  });

  it("of a source whose name begins another's cannot reach the other's sets", async () => {
    const shorter = hostIdentity("codebolt host", dumpSetHostStatements(HOST_TARGET, "codebolt"));
    expect(await result(shorter, onObject("s3:PutObject", component, createIfAbsent))).toBe("ImplicitlyDenied");
    expect(await result(shorter, onObject("s3:GetObject", component))).toBe("ImplicitlyDenied");
    expect(await result(shorter, listing(`sets/${SOURCE}/`))).toBe("ImplicitlyDenied");
    expect(
      await result(shorter, onObject("s3:PutObject", componentKey("codebolt", SET, "main.dump"), createIfAbsent)),
    ).toBe("Allowed");
  });

  it.each([`sets/${SOURCE}/`, `sets/${SOURCE}/${SET}/`, `incoming/${SOURCE}/`])(
    "lists its own prefix %s",
    async (prefix) => {
      expect(await result(sourceHost, listing(prefix))).toBe("Allowed");
    },
  );

  it.each(["sets/other-source/", "sets/", "incoming/other-source/", "restic/", ""])(
    "cannot list the prefix '%s'",
    async (prefix) => {
      expect(await result(sourceHost, listing(prefix))).toBe("ImplicitlyDenied");
    },
  );

  it("cannot list the bucket without a prefix", async () => {
    expect(await result(sourceHost, onBucket("s3:ListBucket"))).toBe("ImplicitlyDenied");
  });

  it("cannot read or write another source's sets", async () => {
    const theirs = "sets/other-source/x/main.dump";
    expect(await result(sourceHost, onObject("s3:GetObject", theirs))).toBe("ImplicitlyDenied");
    expect(await result(sourceHost, onObject("s3:PutObject", theirs, createIfAbsent))).toBe("ImplicitlyDenied");
    expect(await result(sourceHost, onObject("s3:PutObject", theirs, uploadingParts))).toBe("ImplicitlyDenied");
    expect(await result(sourceHost, onObject("s3:PutObject", commitRequestKey("other-source", SET), replacing))).toBe(
      "ImplicitlyDenied",
    );
  });

  it.each([
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging",
  ])("is explicitly denied %s on its own keys", async (action) => {
    expect(await result(sourceHost, onObject(action, component))).toBe("ExplicitlyDenied");
    expect(await result(sourceHost, onObject(action, commitRequestKey(SOURCE, SET)))).toBe("ExplicitlyDenied");
  });

  it.each(["s3:PutLifecycleConfiguration", "s3:PutBucketVersioning", "s3:PutBucketPolicy"])(
    "is explicitly denied %s on the bucket",
    async (action) => {
      expect(await result(sourceHost, onBucket(action))).toBe("ExplicitlyDenied");
    },
  );
});

describe("a restic host", () => {
  const own = (path: string) => `restic/${REPOSITORY}/${path}`;
  const files = ["config", "data/ab/abcdef", "index/abcdef", "keys/abcdef", "snapshots/abcdef", "locks/abcdef"];

  it.each(files)("reads and writes %s of its repository", async (path) => {
    expect(await result(resticHost, onObject("s3:GetObject", own(path)))).toBe("Allowed");
    expect(await result(resticHost, onObject("s3:PutObject", own(path), replacing))).toBe("Allowed");
  });

  it("lists its repository, and no other", async () => {
    expect(await result(resticHost, listing(own("")))).toBe("Allowed");
    expect(await result(resticHost, listing(own("snapshots/")))).toBe("Allowed");
    expect(await result(resticHost, listing("restic/other/"))).toBe("ImplicitlyDenied");
    expect(await result(resticHost, listing("restic/"))).toBe("ImplicitlyDenied");
  });

  it("removes its own locks", async () => {
    expect(await result(resticHost, onObject("s3:DeleteObject", own("locks/abcdef")))).toBe("Allowed");
  });

  it.each(["snapshots/abcdef", "data/ab/abcdef", "index/abcdef", "keys/abcdef", "config"])(
    "is explicitly denied deleting %s",
    async (path) => {
      expect(await result(resticHost, onObject("s3:DeleteObject", own(path)))).toBe("ExplicitlyDenied");
      expect(await result(resticHost, onObject("s3:DeleteObjectVersion", own(path)))).toBe("ExplicitlyDenied");
    },
  );

  it("cannot read, write, list or delete another repository", async () => {
    const theirs = "restic/other/locks/abcdef";
    expect(await result(resticHost, onObject("s3:GetObject", "restic/other/config"))).toBe("ImplicitlyDenied");
    expect(await result(resticHost, onObject("s3:PutObject", "restic/other/data/ab/x", replacing))).toBe(
      "ImplicitlyDenied",
    );
    expect(await result(resticHost, onObject("s3:DeleteObject", theirs))).toBe("ImplicitlyDenied");
  });

  it.each(["s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:DeleteObjectTagging"])(
    "is explicitly denied %s",
    async (action) => {
      expect(await result(resticHost, onObject(action, own("snapshots/abcdef")))).toBe("ExplicitlyDenied");
      expect(await result(resticHost, onObject(action, own("locks/abcdef")))).toBe("ExplicitlyDenied");
    },
  );
});

describe("the retention role", () => {
  const retention = () => lambdaRole("retention");

  it.each([componentKey(SOURCE, SET, "main.dump"), "restic/ws/snapshots/x", "restic/ws/locks/x"])(
    "deletes %s",
    async (key) => {
      expect(await result(retention(), onObject("s3:DeleteObject", key))).toBe("Allowed");
    },
  );

  it.each([
    "restic/ws/data/ab/x",
    "restic/ws/index/x",
    "restic/ws/keys/x",
    "restic/ws/config",
    "retention/plans/x",
    "incoming/x",
  ])("cannot delete %s", async (key) => {
    expect(await result(retention(), onObject("s3:DeleteObject", key))).toBe("ImplicitlyDenied");
  });

  it.each([componentKey(SOURCE, SET, "main.dump"), "restic/ws/snapshots/x", "restic/ws/locks/x", "incoming/x"])(
    "never deletes a version (%s)",
    async (key) => {
      expect(await result(retention(), onObject("s3:DeleteObjectVersion", key))).toBe("ImplicitlyDenied");
    },
  );
});

describe("committed manifests", () => {
  it("are written by the indexer and by no other role or host", async () => {
    const everyone = [...synthesized.lambdaRoles, ...HOSTS];
    const request = onObject("s3:PutObject", manifestKey(SOURCE, SET), createIfAbsent);
    expect(await resultsFor(everyone, request)).toEqual(
      expected(everyone, { indexer: "Allowed", [sourceHost.name]: "ExplicitlyDenied" }, "ImplicitlyDenied"),
    );
    const replacingRequest = onObject("s3:PutObject", manifestKey(SOURCE, SET), replacing);
    expect(await resultsFor(everyone, replacingRequest)).toEqual(
      expected(everyone, { indexer: "Allowed", [sourceHost.name]: "ExplicitlyDenied" }, "ImplicitlyDenied"),
    );
  });
});

describe("the indexer role", () => {
  const indexer = () => lambdaRole("indexer");

  it("deletes commit requests", async () => {
    expect(await result(indexer(), onObject("s3:DeleteObject", commitRequestKey(SOURCE, SET)))).toBe("Allowed");
  });

  it.each([componentKey(SOURCE, SET, "main.dump"), manifestKey(SOURCE, SET), "restic/ws/locks/x", "retention/plans/x"])(
    "cannot delete %s",
    async (key) => {
      expect(await result(indexer(), onObject("s3:DeleteObject", key))).toBe("ImplicitlyDenied");
    },
  );

  it("never deletes a version", async () => {
    expect(await result(indexer(), onObject("s3:DeleteObjectVersion", commitRequestKey(SOURCE, SET)))).toBe(
      "ImplicitlyDenied",
    );
  });
});

describe.each(["verifier", "reconciler", "bucketAudit"] as const)("the %s role", (name) => {
  it.each([
    componentKey(SOURCE, SET, "main.dump"),
    manifestKey(SOURCE, SET),
    "restic/ws/locks/x",
    "restic/ws/data/ab/x",
  ])("cannot delete or write %s", async (key) => {
    const role = lambdaRole(name);
    expect(await result(role, onObject("s3:DeleteObject", key))).toBe("ImplicitlyDenied");
    expect(await result(role, onObject("s3:DeleteObjectVersion", key))).toBe("ImplicitlyDenied");
    expect(await result(role, onObject("s3:PutObject", key, createIfAbsent))).toBe("ImplicitlyDenied");
    expect(await result(role, onObject("s3:PutObject", key, replacing))).toBe("ImplicitlyDenied");
  });

  it.each([commitRequestKey(SOURCE, SET), "retention/plans/x"])("writes nothing, not even %s", async (key) => {
    const role = lambdaRole(name);
    expect(await result(role, onObject("s3:PutObject", key, replacing))).toBe("ImplicitlyDenied");
    expect(await result(role, onObject("s3:PutObject", key, uploadingParts))).toBe("ImplicitlyDenied");
  });
});

describe("the catalog table", () => {
  const INDEX_ARNS = [`${TABLE_ARN}/index/timeline`, `${TABLE_ARN}/index/sources`];
  const withCatalogAccess = ours.filter((name) =>
    (FUNCTIONS[name].settings as readonly string[]).includes("catalogTable"),
  );

  it.each(["dynamodb:Scan", "dynamodb:DeleteItem"])("is never given %s, by any Lambda role", async (action) => {
    const roles = synthesized.lambdaRoles;
    expect(await resultsFor(roles, { action, resource: TABLE_ARN })).toEqual(expected(roles, {}, "ImplicitlyDenied"));
  });

  it("is never scanned through an index", async () => {
    const roles = synthesized.lambdaRoles;
    for (const resource of INDEX_ARNS)
      expect(await resultsFor(roles, { action: "dynamodb:Scan", resource })).toEqual(
        expected(roles, {}, "ImplicitlyDenied"),
      );
  });

  it("is queried through its indexes by every role with catalog access", async () => {
    expect(withCatalogAccess).toEqual(ours);
    const roles = synthesized.lambdaRoles;
    const allowed = Object.fromEntries(withCatalogAccess.map((name) => [name, "Allowed" as const]));
    for (const resource of INDEX_ARNS)
      expect(await resultsFor(roles, { action: "dynamodb:Query", resource })).toEqual(
        expected(roles, allowed, "ImplicitlyDenied"),
      );
  });
});

describe("secrets", () => {
  const secretArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}`;
  const everyone = () => [...synthesized.lambdaRoles, ...HOSTS];
  const read = (resource: string): IamRequest => ({ action: "secretsmanager:GetSecretValue", resource });

  it("lets only the indexer, retention and the drill worker (a restic drill) read a restic repository password", async () => {
    const request = read(secretArn(`${resticSecretPrefix(BUCKET)}ws-AbCdEf`));
    expect(request.resource).toBe(secretArn("restorable/backups/restic/ws-AbCdEf"));
    expect(await resultsFor(everyone(), request)).toEqual(
      expected(everyone(), { indexer: "Allowed", retention: "Allowed", drillWorker: "Allowed" }, "ImplicitlyDenied"),
    );
  });

  it("lets nobody read another deployment's restic passwords", async () => {
    const request = read(secretArn(`${resticSecretPrefix("other-bucket")}ws-AbCdEf`));
    expect(await resultsFor(everyone(), request)).toEqual(expected(everyone(), {}, "ImplicitlyDenied"));
  });

  it("lets nobody read another secret", async () => {
    const request = read(secretArn("some-other-secret-AbCdEf"));
    expect(await resultsFor(everyone(), request)).toEqual(expected(everyone(), {}, "ImplicitlyDenied"));
  });

  it("lets only the drill worker read the master key (for a drill whose plan opts in), no other Lambda and no host", async () => {
    const name = synthesized.output(STACK_OUTPUTS.masterKeySecret);
    expect(typeof name).toBe("string");
    expect(String(name).startsWith(resticSecretPrefix(BUCKET))).toBe(false);
    const request = read(secretArn(`${String(name)}-XyZ123`));
    expect(await resultsFor(everyone(), request)).toEqual(
      expected(everyone(), { drillWorker: "Allowed" }, "ImplicitlyDenied"),
    );
  });
});
