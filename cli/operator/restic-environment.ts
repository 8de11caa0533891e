import type { Deployment } from "../../shared/contracts/deployment";

/** What restic needs in its environment to reach a repository of this deployment, besides -r and the password. */
export interface ResticEnvironment {
  /** Variables to export: the region always, placeholder credentials for an emulator. */
  env: Record<string, string>;
  /** Where restic's credentials come from, in a sentence. */
  credentials: string;
}

/** The credentials to give restic against an emulator: it takes any, but restic refuses to run without some. */
export const EMULATOR_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "restorable-local",
  AWS_SECRET_ACCESS_KEY: "restorable-local",
};

/**
 * restic's S3 backend reads the standard AWS variables; without credentials it fails with "no credentials
 * found". An endpoint deployment (the local stack) takes any values; AWS needs the host's own credentials, of
 * an identity holding the repository's restic host policy, and nothing secret is printed either way.
 */
export function resticEnvironment(name: string, deployment: Deployment): ResticEnvironment {
  if (deployment.endpoint) {
    return {
      env: { ...EMULATOR_CREDENTIALS, AWS_DEFAULT_REGION: deployment.region },
      credentials: `any values work against an emulator such as the local stack; a private endpoint to AWS needs real credentials with the restic host policy of ${name}`,
    };
  }
  return {
    env: { AWS_DEFAULT_REGION: deployment.region },
    credentials:
      `the host's own AWS credentials (its role, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), of an identity with the restic host ` +
      `policy of ${name} attached: cdk deploy -c resticRepositories=${name}, stack output …Repository${name.replace(/[^A-Za-z0-9]/g, "")}PolicyArn`,
  };
}
