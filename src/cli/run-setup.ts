// What `rproc run` boots where, decided before the SoC starts: the board's auto-boot cores with
// their own firmware, plus each firmware the command line gives (FIRMWARE goes to --core NAME or
// to the first free core whose kind runs its e_machine; --core NAME=FILE to NAME). Every image is
// read once here, so that a missing file or a firmware for the wrong kind of core is one line.

import { parseElf } from '../elf/elf-reader.ts';
import { EM, machineName } from '../elf/elf-constants.ts';
import type { Firmware, FirmwareStore } from '../remoteproc/firmware-store.ts';
import type { BoardSpec, CoreKind, CoreSpec } from '../soc/board.ts';
import { RprocError, isRprocError } from '../util/errors.ts';
import { UsageError } from './command.ts';
import type { RunOptions } from './run-options.ts';

/** The e_machine each kind of core runs. */
const KIND_MACHINE: Readonly<Record<CoreKind, number>> = { rv32: EM.EM_RISCV, js: EM.EM_NONE };

export interface RunPlan {
  /** Firmware name per core given on the command line (registered in the store under that name). */
  readonly firmware: Readonly<Record<string, string>>;
  /** The images read, per core, for the `firmware` events. */
  readonly images: ReadonlyMap<string, Firmware>;
  /** The cores the run boots, in board order. */
  readonly boot: readonly string[];
}

async function readImage(store: FirmwareStore, file: string, from: string): Promise<Firmware> {
  try {
    return await store.request(file);
  } catch (e) {
    if (isRprocError(e)) throw new RprocError(e.code, 'run', `${from}: ${e.detail}`, { cause: e });
    throw e;
  }
}

function machineOf(fw: Firmware, from: string): number {
  try {
    return parseElf(fw.bytes).header.machine;
  } catch (e) {
    if (isRprocError(e)) throw new RprocError(e.code, 'run', `${from}: ${e.detail}`, { cause: e });
    throw e;
  }
}

function coreNamed(board: BoardSpec, name: string, from: string): CoreSpec {
  const core = board.cores.find((c) => c.name === name);
  if (core === undefined)
    throw new UsageError(
      `${from}: no core "${name}" on this board (cores: ${board.cores.map((c) => c.name).join(', ')})`,
    );
  return core;
}

function checkKind(core: CoreSpec, machine: number, from: string): void {
  if (KIND_MACHINE[core.kind] === machine) return;
  throw new RprocError(
    'ENOEXEC',
    'run',
    `${from}: the image is e_machine ${machine} (${machineName(machine)}), but ${core.name} is a ${core.kind} core (e_machine ${KIND_MACHINE[core.kind]})`,
  );
}

export async function planRun(board: BoardSpec, store: FirmwareStore, options: RunOptions): Promise<RunPlan> {
  const firmware: Record<string, string> = {};
  const images = new Map<string, Firmware>();
  const assign = (core: CoreSpec, file: string, fw: Firmware): void => {
    store.add(file, fw.bytes);
    firmware[core.name] = file;
    images.set(core.name, fw);
  };
  for (const c of options.cores) {
    const core = coreNamed(board, c.core, c.from);
    const fw = await readImage(store, c.file, c.from);
    checkKind(core, machineOf(fw, c.from), c.from);
    assign(core, c.file, fw);
  }
  if (options.firmware !== undefined) {
    const { file, core: wanted } = options.firmware;
    const from = `FIRMWARE ${file}`;
    const fw = await readImage(store, file, from);
    const machine = machineOf(fw, from);
    let core: CoreSpec | undefined;
    if (wanted !== undefined) {
      core = coreNamed(board, wanted, `--core ${wanted}`);
      checkKind(core, machine, from);
    } else {
      core = board.cores.find((c) => KIND_MACHINE[c.kind] === machine && firmware[c.name] === undefined);
      if (core === undefined)
        throw new RprocError(
          'ENODEV',
          'run',
          `${from}: no free core on this board runs e_machine ${machine} (${machineName(machine)}); cores: ${board.cores.map((c) => `${c.name} (${c.kind})`).join(', ')}`,
        );
    }
    assign(core, file, fw);
  }
  const boot = board.cores.filter((c) => c.autoBoot || firmware[c.name] !== undefined).map((c) => c.name);
  if (boot.length === 0)
    throw new UsageError(
      'nothing to run: give a FIRMWARE or --core NAME=FILE (this board boots no core by itself)',
    );
  return { firmware, images, boot };
}
