import * as path from "node:path";
import { LOCAL_STACK_FILE } from "../deployment";
import { REPOSITORY_ROOT } from "./paths";

export const LOCAL_REGION = "us-east-1";
export const DEFAULT_LOCAL_PORT = 4580;
export const DEFAULT_STATE_FILE = path.join(REPOSITORY_ROOT, LOCAL_STACK_FILE);
