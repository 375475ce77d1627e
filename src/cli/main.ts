// Entry point of the `rproc` command: global --help and --version, verb dispatch, --json on every
// verb, and the mapping of every way out to an exit status (docs/cli.md): no stack trace for any
// input a user can give, and a one-line "internal error" for anything unexpected.

import { parseArgs } from 'node:util';
import { EXIT, UsageError, type Command, type CommandResult, type ExitStatus } from './command.ts';
import { Reporter } from './reporter.ts';
import { BUG_HINT, reportError, userErrorLine } from './main-errors.ts';
import { processIo, type CliIo } from './io.ts';
import { inspectCommand } from './inspect-command.ts';
import { demoCommand } from './demo-command.ts';
import { runCommand } from './run-command.ts';
import { testCommand } from './test-command.ts';
import { BOARD_COMMANDS } from './board-commands.ts';
import { isEndSignal, signalStatus } from './signals.ts';
import { packageVersion } from './version.ts';
import { MAX_TIMEOUT_S } from './run-options.ts';

const COMMANDS: readonly Command[] = [
  demoCommand,
  runCommand,
  testCommand,
  inspectCommand,
  ...BOARD_COMMANDS,
];

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'rproc — the Linux remoteproc framework in TypeScript, with a virtual AMP SoC',
    '',
    'Usage: rproc <command> [options]',
    '       rproc --version | --help',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --json (one JSON event per line, schema in docs/cli-events.schema.json)',
    'and --help.',
    '',
    'Exit status (docs/cli.md):',
    '  0        success',
    '  1        the operation failed (one line on stderr says what and where); test: a scenario failed',
    '  2        bad usage',
    '  3        run: a core crashed (even if it recovered), unless --allow-crash;',
    '           state --watch: the processor crashed while watched',
    '  4        run: a core crashed again right after recovery --crash-loop times in a row; stopped',
    '  5        run: an --expect was not met in time',
    '  6        run: a --fail-on line matched',
    '  N        run: a firmware ended through the test finisher with FAIL code N (PASS is 0)',
    '  128+sig  ended by SIGINT (130), SIGTERM (143) or SIGHUP (129) after shutting every core down',
    '           (board verbs: after closing what they opened; how state --watch and console end);',
    '           a second signal forces the exit; 141 when stdout was closed (rproc demo | head)',
    '',
    `--timeout takes seconds, above 0 and at most ${MAX_TIMEOUT_S}.`,
    '',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [`Usage: rproc ${c.name} ${c.usage}`.trimEnd(), '', c.summary, '', c.help.trimEnd(), ''].join('\n');
}

export interface MainOptions {
  /** Ends a running command early (signals, stdout closed); its reason is the signal's name. */
  readonly abort?: AbortSignal;
}

export async function main(
  argv: readonly string[],
  io: CliIo = processIo(),
  options: MainOptions = {},
): Promise<ExitStatus> {
  const abort = options.abort ?? new AbortController().signal;
  const [verb, ...rest] = argv;
  if (verb === '--version' || verb === '-V' || verb === 'version') {
    io.out(`rproc ${packageVersion()}\n`);
    return EXIT.OK;
  }
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    const topic =
      verb === 'help' && rest[0] !== undefined ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    if (verb === 'help' && rest[0] !== undefined && topic === undefined) {
      io.err(`rproc: unknown command '${rest[0]}' (see rproc --help)\n`);
      return EXIT.USAGE;
    }
    if (verb === undefined) io.err(globalHelp());
    else io.out(topic === undefined ? globalHelp() : commandHelp(topic));
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
    // parseArgs explains some refusals over several lines: they make one line here.
    const message = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
    io.err(`rproc ${command.name}: ${message}\n`);
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
  const startedAt = performance.now();
  const reporter = new Reporter(io, { json, clockMs: () => performance.now() - startedAt });
  reporter.start(command.name);
  const onAbort = (): void => {
    const signal = String(abort.reason);
    reporter.say(
      { event: 'signal', signal },
      `${signal}: ${command.onSignal ?? 'shutting every core down'}${signal === 'SIGPIPE' ? '' : ' (again to force)'}`,
    );
  };
  abort.addEventListener('abort', onAbort, { once: true });
  let result: CommandResult;
  try {
    const r = await command.run({ io, json, values, positionals, abort, startedAt, reporter });
    result = typeof r === 'number' ? { status: r, reason: r === EXIT.OK ? 'done' : 'failed' } : r;
  } catch (e) {
    if (e instanceof UsageError) {
      reporter.say({ event: 'error', code: 'EINVAL', errno: 22, op: 'usage', message: e.message }, undefined);
      reporter.end(EXIT.USAGE, 'bad usage');
      io.err(`rproc ${command.name}: ${e.message}\n`);
      return EXIT.USAGE;
    }
    const line = userErrorLine(e) ?? `internal error: ${internalMessage(e)} (${BUG_HINT})`;
    reportError(reporter, command.name, e, line);
    result = { status: EXIT.FAILED, reason: line };
  } finally {
    abort.removeEventListener('abort', onAbort);
  }
  if (abort.aborted && isEndSignal(abort.reason))
    result = { status: signalStatus(abort.reason), reason: `ended by ${abort.reason}` };
  // Statuses of their own (a crash, a firmware's code) say why on stderr; failures already have.
  else if (result.status > EXIT.USAGE)
    io.err(`rproc ${command.name}: ${result.reason} (exit status ${result.status})\n`);
  reporter.end(result.status, result.reason);
  return result.status;
}

function internalMessage(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
