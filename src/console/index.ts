// Public surface of the virtio console: the host driver (ids 3 and 11) with its ports as Node
// Duplex streams, the device side firmware uses, and the spec constants.

export * from './console-constants.ts';
export {
  VirtioConsoleHost,
  CONSOLE_DEFAULT_BUF_COUNT,
  CONSOLE_DEFAULT_BUF_SIZE,
  type ConsolePortFilter,
  type VirtioConsoleHostEvents,
  type VirtioConsoleHostOptions,
} from './virtio-console.ts';
export {
  VirtioConsolePort,
  type ConsoleBufferConfig,
  type ConsolePortStats,
  type ConsoleSize,
} from './console-port.ts';
export {
  VirtioConsoleDevice,
  CONSOLE_DEVICE_SUPPORTED_FEATURES,
  CONSOLE_DEFAULT_TX_QUEUE_LIMIT,
  type ConsoleDataCallback,
  type ConsoleDeviceOptions,
  type ConsoleDeviceState,
  type ConsoleDeviceStats,
  type ConsoleTranslate,
} from './console-device.ts';
export {
  findVdev,
  hasVdev,
  LiveVdevFields,
  type VdevLocation,
  type VringGeometry,
} from '../remoteproc/virtio/vdev-locate.ts';
