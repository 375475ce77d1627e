// The trust-boundary modules that `npm run mutate` mutates, one StrykerJS run per module: the
// source files whose checks stand between a remote's writes (or a firmware image) and the host, and
// the fast unit tests that pin them, boundary tables first (scripts/mutation-suite.mjs runs them in
// this order in one process). The lists are what keeps a module's run to minutes: slow SoC-level
// suites (worker threads, firmware boots) are left out on purpose.

export const MUTATE_MODULES = {
  rsc: {
    what: 'resource-table parsing',
    mutate: ['src/rsc/rsc-parse.ts', 'src/rsc/rsc-layout.ts'],
    tests: [
      'src/rsc/rsc-boundaries.test.ts',
      'src/rsc/rsc-malformed.test.ts',
      'src/rsc/rsc-parse.test.ts',
      'src/rsc/rsc-layout.test.ts',
      'src/rsc/rsc-property.test.ts',
    ],
  },
  elf: {
    what: 'ELF headers and segments',
    mutate: [
      'src/elf/elf-reader.ts',
      'src/elf/elf-program-headers.ts',
      'src/elf/elf-section-headers.ts',
      'src/elf/elf-segments.ts',
      'src/elf/elf-rsc-table.ts',
      'src/elf/elf-structs.ts',
    ],
    tests: [
      'src/elf/elf-boundaries.test.ts',
      'src/elf/elf-malformed.test.ts',
      'src/elf/elf-reader.test.ts',
      'src/elf/elf-segments.test.ts',
      'src/elf/elf-rsc-table.test.ts',
      'src/elf/elf-symbols.test.ts',
      'src/elf/elf-property.test.ts',
    ],
  },
  virtio: {
    what: 'vring driver and device',
    mutate: [
      'src/virtio/vring-device.ts',
      'src/virtio/vring-driver.ts',
      'src/virtio/vring-layout.ts',
      'src/virtio/vring-memory.ts',
    ],
    tests: [
      'src/virtio/vring-boundaries.test.ts',
      'src/virtio/vring-hostile.test.ts',
      'src/virtio/vring-exchange.test.ts',
      'src/virtio/vring-layout.test.ts',
      'src/virtio/vring-property.test.ts',
      'src/virtio/vring-suppression.test.ts',
      'src/virtio/vring-counters.test.ts',
      'src/virtio/vring-chain-reuse.test.ts',
      'src/virtio/vring-desc-resolve.test.ts',
    ],
  },
  rpmsg: {
    what: 'rpmsg wire and name service',
    mutate: ['src/rpmsg/rpmsg-wire.ts', 'src/rpmsg/host/virtio-rpmsg-bus.ts'],
    tests: [
      'src/rpmsg/host/rpmsg-boundaries.test.ts',
      'src/rpmsg/host/rpmsg-hostile.test.ts',
      'src/rpmsg/host/rpmsg-data.test.ts',
      'src/rpmsg/host/rpmsg-channels.test.ts',
      'src/rpmsg/host/rpmsg-handshake.test.ts',
      'src/rpmsg/host/rpmsg-bus-accounting.test.ts',
      'src/rpmsg/host/rpmsg-bus-buffers.test.ts',
      'src/rpmsg/rpmsg-wire.test.ts',
      'src/rpmsg/host/rpmsg-tx-poll.test.ts',
    ],
  },
  'remoteproc-virtio': {
    what: "the remoteproc virtio transport's device side",
    mutate: [
      'src/remoteproc/virtio/vdev-device-session.ts',
      'src/remoteproc/virtio/vdev-locate.ts',
      'src/remoteproc/virtio/vdev-rings.ts',
    ],
    tests: [
      'src/remoteproc/virtio/vdev-boundaries.test.ts',
      'src/remoteproc/virtio/vdev-locate.test.ts',
      'src/remoteproc/virtio/vdev-rings.test.ts',
      'src/remoteproc/virtio/vdev-device-session.test.ts',
    ],
  },
  rv32: {
    what: 'the rv32 memory bus and MMIO decode',
    mutate: ['src/cpu/rv32/bus.ts', 'src/cpu/rv32/devices/*.ts', '!src/cpu/rv32/devices/*.test.ts'],
    tests: [
      'src/cpu/rv32/bus-boundaries.test.ts',
      'src/cpu/rv32/bus-peek.test.ts',
      'src/cpu/rv32/devices/clint.test.ts',
      'src/cpu/rv32/devices/mailbox-registers.test.ts',
      'src/cpu/rv32/devices/plic-registers.test.ts',
      'src/cpu/rv32/devices/uart-registers.test.ts',
      'src/cpu/rv32/devices/test-finisher.test.ts',
      'src/cpu/rv32/devices/mailbox.test.ts',
      'src/cpu/rv32/devices/plic.test.ts',
      'src/cpu/rv32/devices/uart16550.test.ts',
      'src/cpu/rv32/devices/uart-backpressure.test.ts',
      'src/cpu/rv32/atomic.test.ts',
    ],
  },
};
