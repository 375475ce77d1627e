// What `rproc run` does with its firmware-CI options (run-check-options.ts): a harness board
// session attached to the run's SoC (src/harness) watches its lines; --expect patterns are met in
// order, each within --expect-timeout on the run's clock (virtual with --deterministic); a
// --fail-on line ends the run; --fault arms faults before the cores boot; at the end the rpmsg
// trace, the artefacts of a failure and a JUnit report with one test case are written.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeArtifacts } from '../harness/artifacts.ts';
import { BoardSession } from '../harness/board-session.ts';
import { HarnessError } from '../harness/harness-error.ts';
import { junitXml } from '../harness/junit.ts';
import { describeSource, formatLine, looksAt } from '../harness/line-pattern.ts';
import type { Line } from '../harness/soc-lines.ts';
import type { RxContext } from '../rpmsg/host/rpmsg-endpoint.ts';
import type { VirtualSoc } from '../soc/virtual-soc.ts';
import { EXIT, UsageError, type CommandResult } from './command.ts';
import type { Reporter } from './reporter.ts';
import { coresNamed, type RunCheckOptions } from './run-check-options.ts';

/** Lines an unmet expectation's one-line reason quotes (the JSON event and the artefacts carry more). */
const REASON_LINES = 3;
/** Console lines in the JUnit report's system-out. */
const JUNIT_LINES = 200;

export interface RunCheckHooks {
  /** End the run with this reason (all expectations met, a --fail-on line, an unmet expectation). */
  readonly finish: (why: string) => void;
}

export class RunChecks {
  private readonly o: RunCheckOptions;
  private readonly reporter: Reporter;
  private readonly session: BoardSession;
  private readonly t0 = performance.now();
  private met = 0;
  private verdict: CommandResult | undefined;
  private failureLines: readonly Line[] = [];

  private constructor(soc: VirtualSoc, o: RunCheckOptions, reporter: Reporter, hooks: RunCheckHooks) {
    this.o = o;
    this.reporter = reporter;
    this.session = BoardSession.attach(soc, {
      failOn: o.failOn,
      traceRpmsg: o.traceRpmsg !== undefined || o.artifacts !== undefined,
      keepCoredumps: o.artifacts !== undefined,
      onFailOn: (e) => {
        this.decide(EXIT.FAIL_ON, e.message, e.lastLines);
        const line = e.lastLines.at(-1);
        reporter.say(
          {
            event: 'fail-on',
            pattern: e.pattern ?? '',
            source: e.source ?? '',
            ...(line === undefined ? {} : { core: line.core, text: line.text }),
          },
          `fail-on: ${e.message}`,
        );
        hooks.finish(`--fail-on ${e.pattern ?? ''} matched`);
      },
    });
  }

  /** Checks on `soc` (before it starts): every core a pattern or fault names must be on the board. */
  static attach(soc: VirtualSoc, o: RunCheckOptions, reporter: Reporter, hooks: RunCheckHooks): RunChecks {
    const names = soc.cores.map((c) => c.name);
    for (const { core, from } of coresNamed(o))
      if (!names.includes(core))
        throw new UsageError(`${from}: no core "${core}" on this board (cores: ${names.join(', ')})`);
    return new RunChecks(soc, o, reporter, hooks);
  }

  get expecting(): boolean {
    return this.o.expects.length > 0;
  }

  /** The status the checks decided (5 unmet, 6 fail-on), if they did. */
  get result(): CommandResult | undefined {
    return this.verdict;
  }

  private decide(status: number, reason: string, lines: readonly Line[]): void {
    if (this.verdict !== undefined) return;
    this.verdict = { status, reason };
    this.failureLines = lines;
  }

  /** Arm the --fault options (after the SoC started, before any core boots). */
  armFaults(): void {
    for (const f of this.o.faults) {
      const armed = this.session.fault(f.step.fault, f.step.forMs);
      this.reporter.say(
        {
          event: 'fault',
          kind: armed.kind,
          spec: f.text,
          ...(armed.core === undefined ? {} : { core: armed.core }),
        },
        `fault armed: ${f.text}`,
      );
    }
  }

  /** Start waiting for the --expect patterns, in order; the run ends when all are met or one is not. */
  startExpecting(finish: (why: string) => void): void {
    if (!this.expecting) return;
    const total = this.o.expects.length;
    this.session
      .expect(this.o.expects, {
        timeoutMs: this.o.expectTimeoutMs,
        where: '--expect',
        onMatch: (m, index) => {
          this.met = index + 1;
          this.reporter.say(
            {
              event: 'expect',
              index,
              pattern: m.pattern.spec,
              core: m.line.core,
              source: m.line.source,
              text: m.line.text,
            },
            `expect ${index + 1}/${total} met: ${m.pattern.spec} (${formatLine(m.line)})`,
          );
        },
      })
      .then(
        () => finish(`every --expect was met (${total})`),
        (e: unknown) => {
          if (!(e instanceof HarnessError) || e.kind !== 'expect-timeout') return;
          // The harness's one line: the pattern, where it looked, the limit and the last line seen there.
          this.decide(EXIT.EXPECT_UNMET, e.message, e.lastLines);
          this.reporter.say(
            {
              event: 'expect-timeout',
              index: this.met,
              pattern: e.pattern ?? '',
              source: e.source ?? '',
              timeoutMs: this.o.expectTimeoutMs,
              lastLines: e.lastLines.map(formatLine),
            },
            undefined,
          );
          finish(`--expect ${e.pattern ?? ''} was not met in time`);
        },
      );
  }

  /**
   * The run is ending for another reason (--timeout, the cores ended, a signal): an expectation
   * still waited for is unmet, naming the pattern, where it looked and the last lines seen there.
   */
  runEnded(why: string): void {
    if (!this.expecting || this.met >= this.o.expects.length || this.verdict !== undefined) return;
    const pattern = this.o.expects[this.met];
    if (pattern === undefined) return;
    const own = this.session.lines.tail(REASON_LINES, (l) => looksAt(pattern, l));
    const last = own.at(-1);
    this.decide(
      EXIT.EXPECT_UNMET,
      `ETIMEDOUT: expected "${pattern.spec}" (${describeSource(pattern)}), but the run ended first (${why}); ` +
        (last === undefined
          ? `no line on ${describeSource(pattern)} was seen`
          : `last line there: ${formatLine(last)}`),
      own,
    );
    this.reporter.say(
      {
        event: 'expect-timeout',
        index: this.met,
        pattern: pattern.spec,
        source: describeSource(pattern),
        timeoutMs: this.o.expectTimeoutMs,
        lastLines: own.map(formatLine),
      },
      undefined,
    );
  }

  /** A message the run received on a channel (its --send endpoints): a line for the checks; `deliver` prints it. */
  received(
    core: string,
    channel: string,
    data: Uint8Array,
    ctx: RxContext,
    deliver: (d: Uint8Array) => void,
  ): void {
    this.session.received(core, channel, data, ctx, deliver);
  }

  /**
   * Before the cores are shut down: with `status` not 0, the artefacts (the cores are still loaded
   * for their at-failure coredumps).
   */
  async beforeShutdown(status: CommandResult): Promise<void> {
    if (this.o.artifacts === undefined || status.status === EXIT.OK) return;
    const lines = this.failureLines.length > 0 ? this.failureLines : this.session.lines.tail(20);
    const files = await writeArtifacts(this.o.artifacts, this.session, {
      message: status.reason,
      where: 'rproc run',
      lastLines: lines,
    });
    this.reporter.say(
      { event: 'artifacts', dir: this.o.artifacts, files: files.length },
      `artefacts: ${files.length} files in ${this.o.artifacts}`,
    );
  }

  /** After the run: the rpmsg trace and the JUnit report (one test case: the run). */
  finish(result: CommandResult, name: string): void {
    if (this.o.traceRpmsg !== undefined && this.session.recorder !== undefined) {
      mkdirSync(dirname(this.o.traceRpmsg), { recursive: true });
      this.session.recorder.write(this.o.traceRpmsg);
    }
    if (this.o.junit !== undefined) {
      const failed = result.status !== EXIT.OK;
      const type =
        result.status === EXIT.EXPECT_UNMET
          ? 'expect-timeout'
          : result.status === EXIT.FAIL_ON
            ? 'fail-on'
            : `exit-${result.status}`;
      const xml = junitXml([
        {
          name: 'rproc run',
          cases: [
            {
              name,
              classname: 'rproc.run',
              time: (performance.now() - this.t0) / 1000,
              ...(failed
                ? {
                    failure: {
                      message: result.reason,
                      type,
                      text: [
                        `${result.reason} (exit status ${result.status})`,
                        '',
                        'last lines:',
                        ...this.failureLines.map(formatLine),
                      ].join('\n'),
                    },
                  }
                : {}),
              systemOut: this.session.tail(JUNIT_LINES).join('\n'),
            },
          ],
        },
      ]);
      mkdirSync(dirname(this.o.junit), { recursive: true });
      writeFileSync(this.o.junit, xml);
    }
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}
