// The package as a user gets it: `npm pack`, install the tarball into an empty temporary folder
// with no dev dependencies and no network (npm install --offline), then check that it works on
// plain Node — `npx rproc --version/--help/demo/run/inspect/ls`, imports of every entry point (and
// nothing else), a consumer .ts file type-checked with tsc --module nodenext, and the README's
// code blocks (readme-blocks.mjs) run against it. The folder and the tarball are removed after.
// CI runs it as a step of its own (.ci/run); locally: npm run pack-smoke [-- --keep]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeBlocks } from './readme-blocks.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const ts = require('typescript');
const tsc = require.resolve('typescript/bin/tsc');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const keep = process.argv.includes('--keep');
const ENTRY_POINTS = Object.keys(pkg.exports).filter((k) => k !== './package.json');
/**
 * Nothing of the tests may ship: test files, their support and rigs, testing/ folders other than
 * the public `remoteproc-ts/testing` entry (dist/testing/), sources, source maps.
 */
const FORBIDDEN = [
  /\.test\./,
  /test-support/,
  /test-rig/,
  /(^|\/)testing\/(?<!^dist\/testing\/)/,
  /^src\//,
  /^test\//,
  /\.map$/,
];

/** The packages the installed package needs at run time (everything else is a dev dependency). */
const RUNTIME_DEPENDENCIES = ['yaml'];

let failures = 0;
function check(ok, what, detail = '') {
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${what}${ok || detail === '' ? '' : `\n     ${detail.trim().split('\n').join('\n     ')}`}`,
  );
  if (!ok) failures++;
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...options });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

const work = mkdtempSync(join(tmpdir(), 'rproc-pack-smoke-'));
try {
  // --- pack -----------------------------------------------------------------------------------
  const packed = run('npm', ['pack', '--json', '--pack-destination', work], { cwd: repo });
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')))[0];
  const tarball = join(work, info.filename);
  const files = info.files.map((f) => f.path);
  console.log(
    `tarball ${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${info.entryCount} files`,
  );
  const shipped = files.filter((f) => FORBIDDEN.some((re) => re.test(f)));
  check(
    shipped.length === 0,
    'no tests, test scaffolding, sources or maps in the tarball',
    shipped.join('\n'),
  );
  for (const need of [
    'bin/rproc.mjs',
    'dist/index.js',
    'dist/index.d.ts',
    'firmware/prebuilt/hello.elf',
    'firmware/prebuilt/js/rpmsg-echo',
    'README.md',
    'docs/cli.md',
  ])
    check(files.includes(need), `the tarball has ${need}`);
  // One runtime dependency, on purpose: `yaml` reads scenario files (rproc test, docs/ci.md). The
  // offline install below takes it from npm's cache, where `npm ci` of this checkout put it.
  const deps = Object.keys(pkg.dependencies ?? {}).sort();
  check(
    JSON.stringify(deps) === JSON.stringify(RUNTIME_DEPENDENCIES),
    `runtime dependencies are exactly ${RUNTIME_DEPENDENCIES.join(', ')}`,
    `package.json has: ${deps.join(', ') || 'none'}`,
  );

  // --- install, offline -------------------------------------------------------------------------
  const app = join(work, 'app');
  run('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const inst = run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: app });
  check(inst.status === 0, 'npm install --offline of the tarball', inst.stderr);
  if (inst.status !== 0) throw new Error('cannot go on without the installed package');

  // --- the command ------------------------------------------------------------------------------
  const npx = (...args) => run('npx', ['--offline', '--no-install', 'rproc', ...args], { cwd: app });
  const v = npx('--version');
  check(
    v.status === 0 && v.stdout.trim() === `rproc ${pkg.version}`,
    'npx rproc --version',
    v.stdout + v.stderr,
  );
  const h = npx('--help');
  check(h.status === 0 && /Exit status/.test(h.stdout), 'npx rproc --help', h.stdout + h.stderr);
  const d = npx('demo');
  check(
    d.status === 0 && /recovery done/.test(d.stdout) && d.stderr === '',
    'npx rproc demo',
    d.stdout + d.stderr,
  );
  const r = npx('run', 'echo.elf', '--send', 'rpmsg-echo=hello');
  check(
    r.status === 0 && /rpmsg-echo ← "hello"/.test(r.stdout),
    'npx rproc run echo.elf --send rpmsg-echo=hello',
    r.stdout + r.stderr,
  );
  const i = npx('inspect', 'hello.elf');
  check(
    i.status === 0 && /Resource table: \.resource_table/.test(i.stdout),
    'npx rproc inspect hello.elf',
    i.stdout + i.stderr,
  );
  const j = npx('inspect', 'hello.elf', '--json');
  const first = j.stdout.split('\n')[0] ?? '';
  check(
    j.status === 0 && /"schema":1/.test(first),
    'npx rproc inspect --json starts with the schema version',
    j.stdout + j.stderr,
  );

  const noSys = join(work, 'no-sysfs');
  run('mkdir', ['-p', noSys]);
  const ls = npx('ls', '--sysfs', noSys);
  check(
    ls.status === 1 &&
      /^rproc ls: ENODEV: no remoteproc on this system/.test(ls.stderr) &&
      ls.stderr.trim().split('\n').length === 1,
    'npx rproc ls on a system without remoteproc: one line, exit status 1',
    ls.stdout + ls.stderr,
  );

  // --- the library: every entry point, and nothing else ----------------------------------------
  const imports = ENTRY_POINTS.map((e) => `'remoteproc-ts${e.slice(1)}'`);
  writeFileSync(
    join(app, 'imports.mjs'),
    [
      `for (const spec of [${imports.join(', ')}]) {`,
      `  const m = await import(spec);`,
      `  if (Object.keys(m).length === 0) throw new Error(spec + ' exports nothing');`,
      `}`,
      `const { VirtualSoc, RprocError } = await import('remoteproc-ts');`,
      `if (typeof VirtualSoc !== 'function' || typeof RprocError !== 'function') throw new Error('root exports');`,
      `try { await import('remoteproc-ts/dist/soc/virtual-soc.js'); throw new Error('a deep import worked'); }`,
      `catch (e) { if (e.code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw e; }`,
      `console.log('imports ok');`,
    ].join('\n'),
  );
  const im = run(process.execPath, ['imports.mjs'], { cwd: app });
  check(
    im.status === 0 && /imports ok/.test(im.stdout),
    `import every entry point (${ENTRY_POINTS.join(' ')}); deep imports refused`,
    im.stdout + im.stderr,
  );

  // --- types: a consumer file and the README's examples, under tsc --module nodenext -----------
  writeFileSync(
    join(app, 'consumer.ts'),
    [
      `import { VirtualSoc, RprocError, rprocAlloc, type RprocOps, type RprocState } from 'remoteproc-ts';`,
      `import { defaultFirmwareStore, type SocEvents } from 'remoteproc-ts/soc';`,
      `import { parseElf } from 'remoteproc-ts/elf';`,
      `import { parseRscTable } from 'remoteproc-ts/rsc';`,
      `import { FirmwareStore } from 'remoteproc-ts/remoteproc';`,
      `import { VirtqueueDriver } from 'remoteproc-ts/virtio';`,
      `import { RpmsgHost } from 'remoteproc-ts/rpmsg';`,
      `import { VirtioConsoleHost } from 'remoteproc-ts/console';`,
      `import { LinuxRemoteProcessors } from 'remoteproc-ts/linux';`,
      `import type { RemoteProcessors } from 'remoteproc-ts/platform';`,
      `import { VirtualSocProcessors } from 'remoteproc-ts/soc';`,
      `const soc: VirtualSoc = new VirtualSoc({ autoBoot: false, firmwareStore: defaultFirmwareStore() });`,
      `const state: RprocState = soc.rproc('rproc0').state;`,
      `const exit = (e: SocEvents['exit']): number => e.code;`,
      `const ops: RprocOps = { start: () => undefined, stop: () => undefined };`,
      `const r = rprocAlloc({ name: 'mine', ops });`,
      `const hosts: RemoteProcessors[] = [new LinuxRemoteProcessors({ sysfs: '/nonexistent' }), new VirtualSocProcessors(soc)];`,
      `const err: RprocError = new RprocError('EINVAL', 'consumer', 'bad value 0x1');`,
      `void [state, exit, r, err, hosts, parseElf, parseRscTable, FirmwareStore, VirtqueueDriver, RpmsgHost, VirtioConsoleHost];`,
      `await soc.close();`,
    ].join('\n'),
  );
  const blocks = readmeBlocks(readFileSync(join(repo, 'README.md'), 'utf8'));
  const tsBlocks = blocks.filter((b) => b.mode === 'installed' && b.lang === 'ts');
  tsBlocks.forEach((b, n) => writeFileSync(join(app, `readme-${n}.ts`), b.code));
  const typeFiles = ['consumer.ts', ...tsBlocks.map((_, n) => `readme-${n}.ts`)];
  const tc = run(
    process.execPath,
    [
      tsc,
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2023',
      '--types',
      'node',
      '--typeRoots',
      join(repo, 'node_modules', '@types'),
      ...typeFiles,
    ],
    { cwd: app },
  );
  check(
    tc.status === 0,
    `tsc --module nodenext --strict on a consumer file and ${tsBlocks.length} README example(s)`,
    tc.stdout + tc.stderr,
  );

  // --- the README, against the installed package -----------------------------------------------
  for (const [n, b] of tsBlocks.entries()) {
    const js = ts.transpileModule(b.code, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(app, `readme-${n}.mjs`), js);
    const out = run(process.execPath, [`readme-${n}.mjs`], { cwd: app });
    const ok = out.status === 0 && (b.output === undefined || out.stdout === b.output);
    check(
      ok,
      `README example ${n + 1} (line ${b.line}) runs${b.output === undefined ? '' : ' and prints its Output block'}`,
      `status ${out.status}\n${out.stdout}${out.stderr}`,
    );
  }
  for (const b of blocks.filter((x) => x.mode === 'installed' && x.lang === 'sh')) {
    for (const line of b.code.split('\n')) {
      const cmd = line.replace(/\s+#.*$/, '').trim();
      if (cmd === '' || cmd.startsWith('npm install remoteproc-ts')) continue;
      if (!cmd.startsWith('npx rproc ')) {
        check(false, `README line "${cmd}" (block at line ${b.line}) is an npx rproc command`);
        continue;
      }
      const out = run('sh', ['-c', cmd.replace(/^npx rproc /, 'npx --offline --no-install rproc ')], {
        cwd: app,
        input: '',
      });
      check(
        out.status === 0,
        `README: ${cmd}`,
        `status ${out.status}\n${out.stdout.slice(-2000)}${out.stderr}`,
      );
    }
  }
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
if (failures > 0) {
  console.error(`pack-smoke: ${failures} check(s) failed`);
  process.exit(1);
}
console.log('pack-smoke: the installed package works');
