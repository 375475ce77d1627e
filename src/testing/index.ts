// The public `testing` entry (remoteproc-ts/testing): what a user needs to test their own code
// against this stack without a board or worker threads — a fake platform driver, an Rproc rig on
// it, a loopback rpmsg pair (host and remote in one thread, deterministic doorbells) and a
// scripted hostile remote; and the firmware-CI steps (a virtual board driven step by step, scenario
// files: scenario.ts). docs/testing.md and docs/ci.md show each in use.

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
export {
  BoardSession,
  HarnessError,
  ScenarioError,
  checkTraceFile,
  junitXml,
  openBoard,
  parseLinePattern,
  parseScenario,
  runScenarioFile,
  type ArmedFault,
  type BoardSessionOptions,
  type CrashTypeName,
  type Direction,
  type ExpectMatch,
  type FailureKind,
  type FaultSpec,
  type JunitCase,
  type JunitSuite,
  type KeptCoredump,
  type Line,
  type LinePattern,
  type LineSource,
  type RunScenarioOptions,
  type Scenario,
  type ScenarioFailure,
  type ScenarioResult,
  type ScenarioStep,
} from './scenario.ts';
