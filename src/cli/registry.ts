/** Subcommands of the `webgrad` CLI register here; src/cli.ts imports them and dispatches. */
import { parseArgs, type ParseArgsConfig } from "node:util";
export interface Command {
  about: string;
  run: (argv: string[]) => Promise<number>;
}

export const commands: Record<string, Command> = {};

export function command(name: string, about: string, run: (argv: string[]) => Promise<number>): void {
  commands[name] = { about, run };
}

/** A bad command line: printed with a --help hint, exit code 2. */
export class UsageError extends Error {}

/**
 * Parse argv for command `name`: --help prints the usage (0), a UsageError prints
 * the message and a --help hint (2), not the whole usage; otherwise run with the parsed options.
 */
export async function withArgs<A extends { help?: boolean }>(
  name: string,
  usage: string,
  argv: string[],
  parse: (argv: string[]) => A,
  run: (args: A) => Promise<number>,
): Promise<number> {
  let args: A;
  try {
    args = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`webgrad ${name}: ${e.message}\nRun "webgrad ${name} --help" for its options.`);
    return 2;
  }
  if (args.help) {
    console.log(usage);
    return 0;
  }
  return run(args);
}

/** node:util's parseArgs (strict, no positionals), its complaints turned into UsageErrors. */
export function parseOptions<O extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
