// Public surface of the Linux backend: the same user-facing interface as the virtual SoC
// (platform/remote-processors.ts) over the kernel's remoteproc sysfs/debugfs files, the rpmsg bus
// and /dev/rpmsgN, /dev/ttyRPMSGn — and the kernel-facing I/O seam tests put a simulated kernel in.

export { LinuxRemoteProcessors, DEFAULT_CHANNEL_TIMEOUT_MS } from './linux-processors.ts';
export { LinuxRemoteProcessor } from './linux-processor.ts';
export { LinuxChannelEndpoint, DEFAULT_SEND_TIMEOUT_MS } from './linux-endpoint.ts';
export {
  LinuxContext,
  DEFAULT_STATE_POLL,
  DEFAULT_CHANNEL_POLL,
  DEFAULT_READ_POLL,
  type LinuxOptions,
} from './linux-context.ts';
export { type KernelIo, type DeviceFile, errnoCode, errnoError } from './kernel-io.ts';
export { NodeKernelIo } from './node-kernel-io.ts';
export { SysfsLayout, defaultFirmwareDirs, type LinuxRoots } from './sysfs-layout.ts';
export { type BackoffOptions } from './backoff.ts';
