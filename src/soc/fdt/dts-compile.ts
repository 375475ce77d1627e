// Compiles devicetree source (.dts) to a blob, and decompiles a blob back to source, by running
// Debian's dtc (device-tree-compiler, Linux's scripts/dtc) in a child process with a timeout.
// Without dtc a .dts cannot be read: the error says how to install it or to pass a .dtb instead.

import { spawn } from 'node:child_process';
import { RprocError } from '../../util/errors.ts';

const OP = 'dts-compile';

export const DTC_MISSING_MESSAGE =
  'dtc (device-tree-compiler) is not installed: install it (apt-get install device-tree-compiler) or pass a .dtb';

export interface DtcOptions {
  /** The dtc executable: options.dtc, else $DTC, else "dtc" on the PATH. */
  readonly dtc?: string;
  /** Kill dtc after this many milliseconds (default 10 s). */
  readonly timeoutMs?: number;
  /** Extra /include/ search directories (dtc -i). */
  readonly includeDirs?: readonly string[];
  /** Further dtc arguments for compileDts, e.g. ['-@'] for a __symbols__ node, ['-p', '256'] to pad. */
  readonly args?: readonly string[];
}

/** A .dts by path, or .dts text (fed to dtc on stdin; `name` is used in messages). */
export type DtsInput =
  string | { readonly path: string } | { readonly source: string; readonly name?: string };

const DEFAULT_TIMEOUT_MS = 10_000;
/** A board blob is a few kilobytes; anything near this is not a board. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

interface DtcResult {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly status: number | null;
}

function dtcPath(options: DtcOptions): string {
  return options.dtc ?? process.env['DTC'] ?? 'dtc';
}

/** Run dtc; ENOENT when it is not installed, ETIMEDOUT when it overruns, never rejects otherwise. */
function runDtc(
  args: readonly string[],
  stdin: Uint8Array | string | undefined,
  options: DtcOptions,
): Promise<DtcResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const tool = dtcPath(options);
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let failure: RprocError | undefined;
    const stop = (e: RprocError): void => {
      failure ??= e;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => {
      stop(new RprocError('ETIMEDOUT', OP, `${tool} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > MAX_OUTPUT_BYTES)
        stop(new RprocError('EFBIG', OP, `${tool} wrote more than ${MAX_OUTPUT_BYTES} bytes`));
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.reduce((n, b) => n + b.length, 0) < 64 * 1024) err.push(chunk);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') reject(new RprocError('ENOENT', OP, DTC_MISSING_MESSAGE, { cause: e }));
      else reject(new RprocError('EIO', OP, `cannot run ${tool}: ${e.message}`, { cause: e }));
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      if (failure !== undefined) reject(failure);
      else resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), status });
    });
    // dtc may exit before reading all of stdin (a syntax error): ignore the broken pipe.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

/** The first error line(s) of dtc's stderr, for the EINVAL message. */
function dtcErrorSummary(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const errors = lines.filter((l) => /error/i.test(l));
  const chosen = (errors.length > 0 ? errors : lines).slice(0, 3);
  return chosen.length > 0 ? chosen.join('; ') : '(no message)';
}

/** Compile a .dts (path or source) to a .dtb with `dtc -I dts -O dtb`. */
export async function compileDts(input: DtsInput, options: DtcOptions = {}): Promise<Uint8Array> {
  const includes = (options.includeDirs ?? []).flatMap((d) => ['-i', d]);
  const fromPath = typeof input === 'string' ? input : 'path' in input ? input.path : undefined;
  const what =
    fromPath ?? (typeof input !== 'string' && 'source' in input ? (input.name ?? '<dts source>') : '');
  const stdin = typeof input !== 'string' && 'source' in input ? input.source : undefined;
  const extra = options.args ?? [];
  const r = await runDtc(
    ['-q', '-I', 'dts', '-O', 'dtb', ...includes, ...extra, '-o', '-', fromPath ?? '-'],
    stdin,
    options,
  );
  if (r.status !== 0) {
    // dtc calls its standard input "<stdin>"; name the source instead when we know its name.
    const stderr = stdin === undefined ? r.stderr : r.stderr.replaceAll('<stdin>', what);
    throw new RprocError('EINVAL', OP, `dtc could not compile ${what}: ${dtcErrorSummary(stderr)}`);
  }
  return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length).slice();
}

/** Decompile a .dtb to .dts text with `dtc -I dtb -O dts` (for comparisons and dumps). */
export async function decompileDtb(dtb: Uint8Array, options: DtcOptions = {}): Promise<string> {
  const r = await runDtc(['-q', '-I', 'dtb', '-O', 'dts', '-o', '-', '-'], dtb, options);
  if (r.status !== 0)
    throw new RprocError('EINVAL', OP, `dtc could not decompile the blob: ${dtcErrorSummary(r.stderr)}`);
  return r.stdout.toString('utf8');
}

/** True when dtc can be run. */
export async function dtcAvailable(options: DtcOptions = {}): Promise<boolean> {
  try {
    const r = await runDtc(['--version'], undefined, options);
    return r.status === 0;
  } catch {
    return false;
  }
}
