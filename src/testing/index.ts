// The public `testing` entry (remoteproc-ts/testing): what a user needs to test their own code
// against this stack without a board or worker threads — a fake platform driver, an Rproc rig on
// it, a loopback rpmsg pair (host and remote in one thread, deterministic doorbells) and a
// scripted hostile remote. docs/testing.md shows each in use.

export {
  DEFAULT_FAKE_MAP,
  FakeDmaPool,
  FakePlatform,
  type FailMatcher,
  type FakeMemoryMap,
} from './fake-platform.ts';
export {
  TABLE_DA,
  TEXT_DA,
  firmwareWithTable,
  recordingVdevHooks,
  rprocRig,
  type FirmwareOptions,
  type Rig,
  type RprocRigOptions,
} from './rproc-rig.ts';
export { DoorbellQueue } from './doorbell-queue.ts';
export {
  Loopback,
  RpmsgCore,
  createLoopback,
  echoCore,
  echoEndpoint,
  passiveCore,
  rpmsgCore,
  type CoreFactory,
  type LoopbackOptions,
  type RemoteContext,
  type RemoteCore,
} from './loopback.ts';
export {
  NS_FEATURE,
  rpmsgFirmware,
  type RpmsgFirmware,
  type RpmsgFirmwareOptions,
} from './rpmsg-firmware.ts';
export {
  HostileRemote,
  hostileCore,
  type HostMessage,
  type RawSendOptions,
  type TakenBuffer,
} from './hostile-remote.ts';
