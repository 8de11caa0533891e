import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { RestorableStack } from "./restorable-stack";

const app = new App();
const list = (name: string): string[] =>
  String(app.node.tryGetContext(name) ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
const objectLockMode = app.node.tryGetContext("objectLockMode") as "GOVERNANCE" | "COMPLIANCE" | undefined;

// cdk deploy -c hostSources=codebolt-prod -c resticRepositories=workspaces
//            -c objectLockMode=GOVERNANCE -c objectLockDays=35 -c masterKeyReplicaRegion=eu-central-1
new RestorableStack(app, app.node.tryGetContext("stackName") ?? "Restorable", {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: "restorable: backup catalog, retention and restore drills",
  hostSources: list("hostSources"),
  resticRepositories: list("resticRepositories"),
  ...(objectLockMode
    ? { objectLock: { mode: objectLockMode, days: Number(app.node.tryGetContext("objectLockDays") ?? 35) } }
    : {}),
  ...(app.node.tryGetContext("masterKeyReplicaRegion")
    ? { masterKeyReplicaRegion: app.node.tryGetContext("masterKeyReplicaRegion") }
    : {}),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
