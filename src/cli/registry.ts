/** Subcommands of the `webgrad` CLI register here; src/cli.ts imports them and dispatches. */
export interface Command {
  about: string;
  run: (argv: string[]) => Promise<number>;
}

export const commands: Record<string, Command> = {};

export function command(name: string, about: string, run: (argv: string[]) => Promise<number>): void {
  commands[name] = { about, run };
}
