import { RemovalPolicy, Validations } from "aws-cdk-lib";
import { type ReplicaRegion, Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";

export interface MasterKeyProps {
  /** A second region that keeps a replica of the secret, so losing a region does not lose the key. */
  replicaRegion?: string;
}

/**
 * The application's master key (shared/master-key.ts): generated here as 32+ random characters,
 * kept when the stack goes, optionally replicated to a second region. `restorable key import`
 * replaces it with an existing key; `restorable key split` escrows it among administrators.
 */
export class MasterKey extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: MasterKeyProps = {}) {
    super(scope, id);
    this.secret = new Secret(this, "Secret", {
      description: "The application's master key (restorable key --help); back it up with restorable key split",
      generateSecretString: {
        secretStringTemplate: "{}",
        generateStringKey: "key",
        passwordLength: 44,
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.replicaRegion ? { replicaRegions: [{ region: props.replicaRegion } satisfies ReplicaRegion] } : {}),
    });
    Validations.of(this.secret).acknowledge({
      id: "AwsSolutions::AwsSolutions-SMG4",
      reason:
        "Rotating the master key means re-encrypting the application's secrets; it is done with the application, not on a timer. Previous versions stay held.",
    });
  }
}
