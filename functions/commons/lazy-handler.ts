import type { Context } from "aws-lambda";
import { type FunctionContract, readSettings, type Settings } from "../../shared/contracts/functions";

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * The handler Lambda calls: built on the first invocation from the function's environment, then kept for
 * the warm container's life. Building lazily lets the local stack and tests build their own handlers from
 * the same factory with their own settings and clients, several in one process, without touching
 * process.env; a missing variable still fails loudly at cold start, naming it.
 */
export function lazyHandler<C extends FunctionContract, E, R>(
  contract: C,
  build: (settings: Settings<C>) => Handler<E, R>,
): Handler<E, R> {
  let built: Handler<E, R> | undefined;
  return (event, context) => {
    built ??= build(readSettings(contract));
    return built(event, context);
  };
}
