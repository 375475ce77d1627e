// Entry point of the `rproc` command: global --help, verb dispatch, --json on every verb, and the
// mapping of failures to exit statuses (never a stack trace for an expected failure).

import { parseArgs } from 'node:util';
import { EXIT, UsageError, type Command } from './command.ts';
import { processIo, type CliIo } from './io.ts';
import { RprocError } from '../util/errors.ts';
import { inspectCommand } from './inspect-command.ts';
import { demoCommand } from './demo-command.ts';
import { runCommand } from './run-command.ts';
import { BOARD_COMMANDS } from './board-commands.ts';

const COMMANDS: readonly Command[] = [demoCommand, runCommand, inspectCommand, ...BOARD_COMMANDS];

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'rproc — the Linux remoteproc framework in TypeScript, with a virtual AMP SoC',
    '',
    'Usage: rproc <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --json (machine-readable output) and --help.',
    'Exit status: 0 success, 1 the operation failed, 2 bad usage.',
    '',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [`Usage: rproc ${c.name} ${c.usage}`.trimEnd(), '', c.summary, '', c.help.trimEnd(), ''].join('\n');
}

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    const topic = verb === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.out(topic === undefined ? globalHelp() : commandHelp(topic));
    return verb === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === verb);
  if (command === undefined) {
    io.err(`rproc: unknown command '${verb}' (see rproc --help)\n`);
    return EXIT.USAGE;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: {
        ...command.options,
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.err(`rproc ${command.name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.USAGE;
  }
  const { values, positionals } = parsed;
  if (values['help']) {
    io.out(commandHelp(command));
    return EXIT.OK;
  }
  const [min, max] = command.positionals;
  if (positionals.length < min || positionals.length > max) {
    io.err(
      `rproc ${command.name}: expected ${min === max ? min : `${min} to ${max}`} argument(s): ${command.usage}\n`,
    );
    return EXIT.USAGE;
  }
  const json = values['json'];
  try {
    return await command.run({ io, json, values, positionals });
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`rproc ${command.name}: ${e.message}\n`);
      return EXIT.USAGE;
    }
    if (e instanceof RprocError) {
      if (json)
        io.out(
          JSON.stringify({ error: { code: e.code, errno: e.errno, op: e.op, message: e.message } }) + '\n',
        );
      else io.err(`rproc ${command.name}: ${e.message}\n`);
      return EXIT.FAILED;
    }
    throw e;
  }
}
