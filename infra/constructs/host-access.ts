import { CfnOutput, Stack, Validations } from "aws-cdk-lib";
import { ManagedPolicy, PolicyDocument } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { dumpSetHostStatements, policyDocument, resticHostStatements } from "../../shared/contracts/host-access";
import { SourceNameSchema } from "../../shared/contracts/layout";

export interface HostAccessProps {
  bucket: IBucket;
  key: IKey;
  /** Sources whose hosts push dump sets: one managed policy each. */
  sources: readonly string[];
  /** restic repositories whose hosts run plain restic: one managed policy each. */
  repositories: readonly string[];
}

/**
 * One managed policy per source and per restic repository, to attach to whatever identity the host
 * uses (an instance role, an IAM Roles Anywhere role, a user). The statements are defined once, in
 * shared/host-access.ts, and the emulator test enforces the same documents.
 */
export class HostAccess extends Construct {
  readonly policies = new Map<string, ManagedPolicy>();

  constructor(scope: Construct, id: string, props: HostAccessProps) {
    super(scope, id);
    const target = { bucketArn: props.bucket.bucketArn, kmsKeyArn: props.key.keyArn };
    const logicalId = Stack.of(this).getLogicalId(props.bucket.node.defaultChild as never);
    const add = (kind: "Source" | "Repository", name: string, statements: ReturnType<typeof dumpSetHostStatements>) => {
      SourceNameSchema.parse(name);
      const policy = new ManagedPolicy(this, `${kind}-${name}`, {
        description: `restorable host access for ${kind.toLowerCase()} ${name}`,
        document: PolicyDocument.fromJson(policyDocument(statements)),
      });
      for (const resource of statements.flatMap((statement) => statement.Resource)) {
        if (!resource.includes("*")) continue;
        const spelled = resource.replace(props.bucket.bucketArn, `<${logicalId}.Arn>`);
        Validations.of(policy).acknowledge({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::${spelled}]`,
          reason: "A host writes objects whose keys are known only at run time, under its own prefix only.",
        });
      }
      new CfnOutput(this, `${kind}${name.replace(/[^A-Za-z0-9]/g, "")}PolicyArn`, {
        value: policy.managedPolicyArn,
        description: `attach to the identity of hosts backing up ${kind.toLowerCase()} ${name}`,
      });
      this.policies.set(`${kind.toLowerCase()}:${name}`, policy);
    };
    for (const source of props.sources) add("Source", source, dumpSetHostStatements(target, source));
    for (const repository of props.repositories)
      add("Repository", repository, resticHostStatements(target, repository));
  }
}
