// Runs the real `rproc` command in a child process (node bin/rproc.mjs), as a user or a CI job
// would, and collects its exit status, stdout, stderr and — with --json — its events. spawnRproc
// also lets a test wait for an event and then signal the process or close its stdout.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'rproc.mjs');

export interface CliEvent {
  readonly event: string;
  readonly t: number;
  readonly core?: string;
  readonly [field: string]: unknown;
}

export interface CliResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RproOptions {
  readonly cwd?: string;
  /** Written to stdin, which is then closed (default: closed at once). */
  readonly input?: string;
  /** Leave stdin open (for --console tests that end by --timeout or a signal). */
  readonly keepStdinOpen?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the process (and fail) after this long; default 60 s. */
  readonly timeoutMs?: number;
}

/** Each stdout line parsed as JSON (throws, naming the line, on one that is not). */
export function eventsOf(stdout: string): CliEvent[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as CliEvent;
      } catch {
        throw new Error(`stdout line ${i + 1} is not JSON: ${l}`);
      }
    });
}

/** A stack trace's frame lines ("    at f (file:1:2)"): never on a CLI's output. */
export const STACK_FRAME = /^\s+at .+[:(].*\d+:\d+\)?$/m;

export class RprocProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;
  private readonly waiters: { test: (e: CliEvent) => boolean; resolve: (e: CliEvent) => void }[] = [];
  private seen = 0;

  constructor(args: readonly string[], options: RproOptions = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const { child } = this;
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      this.stdout += d;
      this.scan();
    });
    child.stderr?.on('data', (d: string) => (this.stderr += d));
    // A test that closes stdout early makes later writes fail: that is the point, not an error here.
    child.stdout?.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    if (options.input !== undefined) child.stdin?.end(options.input);
    else if (options.keepStdinOpen !== true) child.stdin?.end();
    const limit = options.timeoutMs ?? 60_000;
    this.done = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(
            `rproc ${args.join(' ')} still running after ${limit} ms\n${this.stdout}\n${this.stderr}`,
          ),
        );
      }, limit);
      child.on('close', (status, signal) => {
        clearTimeout(timer);
        resolve({ status, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Resolves with the first event (--json) that `test` accepts, already printed or still to come. */
  waitFor(test: (e: CliEvent) => boolean): Promise<CliEvent> {
    const already = this.events().find(test);
    if (already !== undefined) return Promise.resolve(already);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  events(): CliEvent[] {
    const complete = this.stdout.slice(0, this.stdout.lastIndexOf('\n') + 1);
    return eventsOf(complete);
  }

  private scan(): void {
    // Only a test that waits for events runs --json: plain text is never parsed.
    if (this.waiters.length === 0) return;
    const events = this.events();
    for (const e of events.slice(this.seen)) {
      for (const w of [...this.waiters]) {
        if (!w.test(e)) continue;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
    this.seen = events.length;
  }
}

/** Run `rproc ARGS` to the end. */
export function rproc(args: readonly string[], options: RproOptions = {}): Promise<CliResult> {
  return new RprocProcess(args, options).done;
}

/** A private temporary folder for a test (removed by the caller with removeScratch). */
export function scratchDir(what: string): string {
  return mkdtempSync(join(tmpdir(), `rproc-test-${what}-`));
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The entries of `dir`, for leak checks. */
export function entries(dir: string): string[] {
  return readdirSync(dir).sort();
}
