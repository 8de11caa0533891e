import { type EvaluationResult, runSimulation } from "@cloud-copilot/iam-simulate";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { STUB_FUNCTION_CODE_CONTEXT } from "../../infra/constructs/restorable-function";
import { RestorableStack } from "../../infra/restorable-stack";
import { FUNCTIONS } from "../../shared/contracts/functions";
import { type PolicyStatementJson, policyDocument } from "../../shared/contracts/host-access";

/**
 * Evaluates the real policy documents (the hosts' statements and the synthesized stack's roles and bucket
 * policy) with @cloud-copilot/iam-simulate, which, unlike the emulator, evaluates condition keys.
 */

export const ACCOUNT = "111122223333";
export const REGION = "eu-west-1";
export const BUCKET = "backups";
export const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
export const KMS_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/k`;
export const TABLE = "catalog";
export const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${TABLE}`;
export const HOST_TARGET = { bucketArn: BUCKET_ARN, kmsKeyArn: KMS_KEY_ARN };

/** The suffixes CloudFormation and Secrets Manager would add to a generated secret's name and ARN. */
const GENERATED_SECRET_SUFFIX = "-AbCdEfGhIjKl";
const SECRET_ARN_SUFFIX = "-XyZ123";

export interface PolicyDocument {
  Version?: string;
  Statement: unknown[];
}

/** Who makes a request, with the identity policies that apply to it. */
export interface Identity {
  name: string;
  principal: string;
  policies: { name: string; policy: PolicyDocument }[];
}

export interface IamRequest {
  action: string;
  resource: string;
  /** Condition keys of the request; aws:SecureTransport is "true" unless given. */
  context?: Record<string, string | string[]>;
}

export function hostIdentity(name: string, statements: PolicyStatementJson[]): Identity {
  return {
    name,
    principal: `arn:aws:iam::${ACCOUNT}:role/${name.replace(/[^A-Za-z0-9+=,.@_-]/g, "-")}`,
    policies: [{ name, policy: policyDocument(statements) }],
  };
}

/**
 * The decision for one request. Requests on the backup bucket also go through its bucket policy.
 * Fails on invalid policies or requests, and on context keys the simulator would silently drop because
 * they do not apply to the action: a misspelt key must not quietly change a result.
 */
export async function evaluate(
  identity: Identity,
  request: IamRequest,
  bucketPolicy: PolicyDocument,
): Promise<EvaluationResult> {
  const onBucket = request.resource === BUCKET_ARN || request.resource.startsWith(`${BUCKET_ARN}/`);
  const response = await runSimulation(
    {
      request: {
        principal: identity.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: { "aws:SecureTransport": "true", ...request.context },
      },
      identityPolicies: identity.policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(onBucket ? { resourcePolicy: bucketPolicy } : {}),
    },
    { simulationMode: "Strict" },
  );
  const described = `${identity.name}: ${request.action} on ${request.resource}`;
  if (response.resultType === "error") throw new Error(`${described}: ${JSON.stringify(response.errors)}`);
  if (response.resultType !== "single")
    throw new Error(`${described}: expected one resource, got ${response.resultType}`);
  const ignored = response.result.ignoredContextKeys ?? [];
  if (ignored.length > 0) throw new Error(`${described}: context keys not applicable: ${ignored.join(", ")}`);
  return response.overallResult;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface CfnResource {
  Type: string;
  Properties?: Record<string, Json>;
}

interface ResourceValues {
  ref: string;
  attributes: Record<string, string>;
}

const isObject = (value: Json | undefined): value is { [key: string]: Json } =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The one resource of a type that matches, or an error: the resolver must not guess. */
function single(resources: [string, CfnResource][], what: string): [string, CfnResource] {
  if (resources.length !== 1) throw new Error(`expected exactly one ${what}, found ${resources.length}`);
  return resources[0] as [string, CfnResource];
}

/**
 * Replaces CloudFormation intrinsics with concrete values: the backup bucket is "backups", the catalog
 * table "catalog", the bucket key the host target's key; other resources are named by their logical id.
 * Anything else (an unknown resource type, attribute or function) fails.
 */
export class IntrinsicResolver {
  private readonly values = new Map<string, ResourceValues>();

  constructor(private readonly resources: Record<string, CfnResource>) {
    const entries = Object.entries(resources);
    const versioned = (r: CfnResource) => {
      const versioning = r.Properties?.VersioningConfiguration;
      return isObject(versioning) && versioning.Status === "Enabled";
    };
    const [bucketId, bucket] = single(
      entries.filter(([, r]) => r.Type === "AWS::S3::Bucket" && versioned(r)),
      "versioned bucket (the backup bucket)",
    );
    const bucketKeyId = this.bucketKeyOf(bucket);
    const [tableId] = single(
      entries.filter(([, r]) => r.Type === "AWS::DynamoDB::GlobalTable" || r.Type === "AWS::DynamoDB::Table"),
      "DynamoDB table (the catalog)",
    );
    const regional = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
    for (const [id, resource] of entries) {
      const values = ((): ResourceValues | undefined => {
        switch (resource.Type) {
          case "AWS::S3::Bucket": {
            const name = id === bucketId ? BUCKET : id.toLowerCase();
            return { ref: name, attributes: { Arn: `arn:aws:s3:::${name}` } };
          }
          case "AWS::DynamoDB::GlobalTable":
          case "AWS::DynamoDB::Table":
            return id === tableId ? { ref: TABLE, attributes: { Arn: TABLE_ARN } } : undefined;
          case "AWS::SQS::Queue":
            return {
              ref: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`,
              attributes: { Arn: regional("sqs", id), QueueName: id },
            };
          case "AWS::KMS::Key": {
            const arn = id === bucketKeyId ? KMS_KEY_ARN : regional("kms", `key/${id}`);
            return { ref: arn.split("/").pop() as string, attributes: { Arn: arn } };
          }
          case "AWS::Logs::LogGroup":
            return { ref: id, attributes: { Arn: regional("logs", `log-group:${id}:*`) } };
          case "AWS::IAM::Role":
            return { ref: id, attributes: { Arn: `arn:aws:iam::${ACCOUNT}:role/${id}` } };
          case "AWS::Lambda::Function":
            return { ref: id, attributes: { Arn: regional("lambda", `function:${id}`) } };
          case "AWS::SNS::Topic":
            return { ref: regional("sns", id), attributes: { TopicName: id } };
          case "AWS::StepFunctions::StateMachine":
            return { ref: regional("states", `stateMachine:${id}`), attributes: { Name: id } };
          case "AWS::EC2::LaunchTemplate":
            return {
              ref: `lt-${id.toLowerCase()}`,
              attributes: { LaunchTemplateId: `lt-${id.toLowerCase()}`, LatestVersionNumber: "1" },
            };
          case "AWS::EC2::Subnet":
            return { ref: `subnet-${id.toLowerCase()}`, attributes: {} };
          case "AWS::EC2::SecurityGroup":
            return { ref: `sg-${id.toLowerCase()}`, attributes: { GroupId: `sg-${id.toLowerCase()}` } };
          case "AWS::IAM::InstanceProfile":
            return { ref: id, attributes: { Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${id}` } };
          case "AWS::SecretsManager::Secret": {
            const arn = regional("secretsmanager", `secret:${id}${GENERATED_SECRET_SUFFIX}${SECRET_ARN_SUFFIX}`);
            return { ref: arn, attributes: {} };
          }
          default:
            return undefined;
        }
      })();
      if (values) this.values.set(id, values);
    }
  }

  /** The concrete value of a template fragment; throws on anything it cannot resolve. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    const intrinsic = keys.length === 1 && (keys[0] === "Ref" || keys[0]?.startsWith("Fn::")) ? keys[0] : undefined;
    if (!intrinsic) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)]));
    const argument = value[intrinsic] as Json;
    switch (intrinsic) {
      case "Ref":
        return this.ref(argument);
      case "Fn::GetAtt":
        return this.getAtt(argument);
      case "Fn::Join": {
        const [separator, parts] = this.pair(argument, intrinsic);
        const resolved = this.resolve(parts);
        if (typeof separator !== "string" || !Array.isArray(resolved) || !resolved.every((p) => typeof p === "string"))
          throw new Error(`cannot resolve ${JSON.stringify(value)}`);
        return resolved.join(separator);
      }
      case "Fn::Split": {
        const [separator, source] = this.pair(argument, intrinsic);
        const resolved = this.resolve(source);
        if (typeof separator !== "string" || typeof resolved !== "string")
          throw new Error(`cannot resolve ${JSON.stringify(value)}`);
        return resolved.split(separator);
      }
      case "Fn::Select": {
        const [index, list] = this.pair(argument, intrinsic);
        const resolved = this.resolve(list);
        const selected = Array.isArray(resolved) ? resolved[Number(index)] : undefined;
        if (selected === undefined) throw new Error(`cannot resolve ${JSON.stringify(value)}`);
        return selected;
      }
      default:
        throw new Error(`unsupported intrinsic ${intrinsic}: ${JSON.stringify(value)}`);
    }
  }

  private pair(argument: Json, intrinsic: string): [Json, Json] {
    if (!Array.isArray(argument) || argument.length !== 2) throw new Error(`malformed ${intrinsic}`);
    return argument as [Json, Json];
  }

  private ref(name: Json): string {
    switch (name) {
      case "AWS::Partition":
        return "aws";
      case "AWS::Region":
        return REGION;
      case "AWS::AccountId":
        return ACCOUNT;
      case "AWS::URLSuffix":
        return "amazonaws.com";
    }
    const values = typeof name === "string" ? this.values.get(name) : undefined;
    if (!values) throw new Error(`cannot resolve Ref ${JSON.stringify(name)} (${this.typeOf(name)})`);
    return values.ref;
  }

  private getAtt(argument: Json): string {
    const [id, attribute] = Array.isArray(argument)
      ? argument
      : typeof argument === "string"
        ? argument.split(".")
        : [];
    const resolved = typeof id === "string" && typeof attribute === "string" ? this.values.get(id) : undefined;
    const result = resolved?.attributes[attribute as string];
    if (result === undefined)
      throw new Error(`cannot resolve Fn::GetAtt ${JSON.stringify(argument)} (${this.typeOf(id)})`);
    return result;
  }

  private typeOf(id: Json | undefined): string {
    return typeof id === "string" ? (this.resources[id]?.Type ?? "no such resource") : "not a logical id";
  }

  private bucketKeyOf(bucket: CfnResource): string | undefined {
    const encryption = JSON.stringify(bucket.Properties?.BucketEncryption ?? {});
    return /"Fn::GetAtt":\["([^"]+)","Arn"\]/.exec(encryption)?.[1];
  }
}

/** The one AWS managed policy a Lambda role may carry here: it only writes logs. */
const LOGS_ONLY_MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

export interface SynthesizedPolicies {
  /** The role of every Lambda in the stack, by its contract name (FUNCTIONS) or, for CDK's own, its logical id. */
  lambdaRoles: Identity[];
  /** The backup bucket's policy, resolved. */
  bucketPolicy: PolicyDocument;
  /** The value of one of the stack's outputs, resolved. */
  output(name: string): Json;
}

/** Synthesizes the stack (stub function code, no bundling) and resolves its policy documents. */
export function synthesizePolicies(): SynthesizedPolicies {
  const app = new App({ context: { [STUB_FUNCTION_CODE_CONTEXT]: true } });
  const stack = new RestorableStack(app, "Restorable", { env: { account: ACCOUNT, region: REGION } });
  const template = Template.fromStack(stack).toJSON() as {
    Resources: Record<string, CfnResource>;
    Outputs?: Record<string, { Value: Json }>;
  };
  const resources = template.Resources;
  const resolver = new IntrinsicResolver(resources);
  const entries = Object.entries(resources);
  const contractOf = (description: Json | undefined) =>
    Object.entries(FUNCTIONS).find(([, contract]) => contract.description === description)?.[0];

  const lambdaRoles = entries
    .filter(([, r]) => r.Type === "AWS::Lambda::Function")
    .map(([functionId, fn]): Identity => {
      const role = fn.Properties?.Role;
      const roleId = isObject(role) && Array.isArray(role["Fn::GetAtt"]) ? role["Fn::GetAtt"][0] : undefined;
      if (typeof roleId !== "string") throw new Error(`${functionId} has no role of this stack`);
      const attachedToRole = (roles: Json | undefined) =>
        Array.isArray(roles) && roles.some((r) => isObject(r) && r.Ref === roleId);
      const documents: { name: string; document: Json }[] = entries
        .filter(([, r]) => ["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"].includes(r.Type))
        .filter(([, r]) => attachedToRole(r.Properties?.Roles))
        .map(([id, r]) => ({ name: id, document: r.Properties?.PolicyDocument ?? null }));
      const roleProperties = resources[roleId]?.Properties ?? {};
      for (const inline of (roleProperties.Policies as Json[] | undefined) ?? []) {
        if (!isObject(inline)) throw new Error(`malformed inline policy of ${roleId}`);
        documents.push({ name: `${roleId}/${String(inline.PolicyName)}`, document: inline.PolicyDocument ?? null });
      }
      const managed = resolver.resolve(roleProperties.ManagedPolicyArns ?? []);
      if (!Array.isArray(managed) || managed.some((arn) => arn !== LOGS_ONLY_MANAGED_POLICY))
        throw new Error(`${roleId} has managed policies this test cannot see: ${JSON.stringify(managed)}`);
      return {
        name: contractOf(fn.Properties?.Description) ?? functionId,
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleId}/${functionId}`,
        policies: documents.map(({ name, document }) => ({
          name,
          policy: resolver.resolve(document) as unknown as PolicyDocument,
        })),
      };
    });

  const [, bucketPolicy] = single(
    entries.filter(
      ([, r]) => r.Type === "AWS::S3::BucketPolicy" && resolver.resolve(r.Properties?.Bucket ?? null) === BUCKET,
    ),
    "policy of the backup bucket",
  );
  const output = (name: string) => {
    const found = template.Outputs?.[name];
    if (!found) throw new Error(`no output ${name}`);
    return resolver.resolve(found.Value);
  };
  return {
    lambdaRoles,
    bucketPolicy: resolver.resolve(bucketPolicy.Properties?.PolicyDocument ?? null) as unknown as PolicyDocument,
    output,
  };
}
