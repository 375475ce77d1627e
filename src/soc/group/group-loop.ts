// The main loop of a core group's thread: serve every core of the group in turn (group-member.ts),
// let the firmware's promise continuations run, and when no core has work sleep on ONE word, the
// group leader's WAKE (the host rings that word for every core of the group), until the earliest
// timer of any core. Cores join through control messages and leave through their RUN word, as a
// lone core's thread would (JsCoreRuntime.run, Rv32CoreRuntime.run).

import { CORE_WORD, type CoreBlock } from '../core-block.ts';
import { TurnPacer } from '../turn-pacer.ts';
import type { CoreMessage, CoreWorkerData } from '../core-messages.ts';
import { debugError, type DebugReply } from '../debug/debug-protocol.ts';
import { diedMessage, type GroupMember } from './group-member.ts';
import type { GroupControl, GroupReport } from './group-messages.ts';

/** Longest sleep without a deadline: RUN words and control messages are still looked at this often. */
const IDLE_WAIT_MS = 50;
/** While a core boots (a js program's module loads on the event loop) the group naps this long instead of sleeping. */
const BOOT_NAP_MS = 1;

function nap(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type MemberFactory = (data: CoreWorkerData, post: (msg: CoreMessage) => void) => Promise<GroupMember>;

export class GroupLoop {
  /** Served in the order they joined. */
  private readonly members = new Map<number, GroupMember>();
  private readonly wake: CoreBlock;
  private readonly post: (report: GroupReport) => void;
  private readonly create: MemberFactory;
  /** The seq of the last control message handled: GROUP_CONTROL ahead of it means one is on its way. */
  private handledSeq: number;
  private booting = 0;
  /** Cores being built (join), by board index. */
  private readonly joining = new Map<number, Promise<void>>();
  private closing = false;
  /** WAKE when the member being served started: a move means the group was rung meanwhile. */
  private serveSeen = 0;
  private readonly preempted = (): boolean => this.wake.load(CORE_WORD.WAKE) !== this.serveSeen;

  constructor(
    wake: CoreBlock,
    controlSeq: number,
    post: (report: GroupReport) => void,
    create: MemberFactory,
  ) {
    this.wake = wake;
    this.handledSeq = controlSeq;
    this.post = post;
    this.create = create;
  }

  /** A control message from the host (the thread's message handler). */
  control(msg: GroupControl): void {
    this.handledSeq = msg.seq;
    if (msg.type === 'close') {
      this.closing = true;
      return;
    }
    if (msg.type === 'debug') {
      const { core, id, req } = msg;
      const answer = (): void => {
        const member = this.members.get(core);
        const reply: DebugReply =
          member === undefined
            ? debugError('ENODEV', `core ${core} is not running in this group`)
            : member.debug(req);
        this.post({ type: 'core', core, msg: { type: 'debug-reply', id, reply } });
      };
      // A core still being built answers once it is (requests keep their order).
      const joining = this.joining.get(core);
      if (joining === undefined) answer();
      else void joining.then(answer);
      return;
    }
    this.booting++;
    const core = msg.data.coreIndex;
    const joining = this.join(msg.data).finally(() => {
      this.booting--;
      if (this.joining.get(core) === joining) this.joining.delete(core);
    });
    this.joining.set(core, joining);
  }

  private async join(data: CoreWorkerData): Promise<void> {
    const core = data.coreIndex;
    const post = (msg: CoreMessage): void => this.post({ type: 'core', core, msg });
    try {
      this.members.set(core, await this.create(data, post));
    } catch (e) {
      // A core that cannot even be built dies alone, as its own thread would have.
      post(diedMessage(e));
      this.post({ type: 'halted', core });
    }
  }

  /** Serve until the host closes the group. */
  async run(): Promise<void> {
    const { wake } = this;
    let wakeSeen = wake.load(CORE_WORD.WAKE);
    const pacer = new TurnPacer();
    while (!this.closing) {
      // The host's control seq is shared memory it alone writes; any value only decides whether to
      // take event-loop turns until the message with that seq arrived.
      if (wake.load(CORE_WORD.GROUP_CONTROL) !== this.handledSeq) {
        await pacer.fullTurn();
        continue;
      }
      if (this.servePass() > 0) {
        await pacer.afterWork();
        continue;
      }
      const turn = pacer.beforeSleep();
      if (turn !== undefined) {
        await turn;
        continue;
      }
      if (this.booting > 0) {
        // Atomics.wait would block the event loop that finishes the boot.
        await nap(BOOT_NAP_MS);
        pacer.turned();
        continue;
      }
      let wait = IDLE_WAIT_MS;
      for (const m of this.members.values()) {
        m.beforeSleep();
        const d = m.deadlineMs();
        if (d !== undefined) wait = Math.min(wait, d);
      }
      // A kick, halt request or control message for any core of the group bumps this one word.
      if (wait > 0) wakeSeen = wake.waitForEvent(wakeSeen, wait);
    }
    for (const m of [...this.members.values()]) this.leave(m);
  }

  /** One pass over every core: those asked to halt leave, the others are served. */
  private servePass(): number {
    let work = 0;
    for (const m of this.members.values()) {
      if (m.shouldLeave()) {
        this.leave(m);
        continue;
      }
      try {
        this.serveSeen = this.wake.load(CORE_WORD.WAKE);
        work += m.serve(this.preempted);
      } catch (e) {
        m.fail(e);
        work++;
      }
    }
    return work;
  }

  private leave(m: GroupMember): void {
    this.members.delete(m.index);
    try {
      m.finish();
    } catch (e) {
      m.fail(e);
    }
    this.post({ type: 'halted', core: m.index });
  }
}
