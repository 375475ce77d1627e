// Public surface of the virtio ring layer: split-ring constants and layout, the driver side
// (virtio_ring.c's role: the host) and the device side (OpenAMP's VIRTIO_DEV_DEVICE role: the
// remote), and raw field access for tests and hostile peers. The remoteproc transport that puts
// rings in a resource table's vdev lives in src/remoteproc/virtio/.

export * from './vring-constants.ts';
export * from './vring-layout.ts';
export type { VringMemoryOptions } from './vring-memory.ts';
export {
  VirtqueueDriver,
  type VirtqueueDriverOptions,
  type VirtqueueDriverStats,
  type VqBuf,
  type VqToken,
  type UsedBuf,
} from './vring-driver.ts';
export {
  VirtqueueDevice,
  type VirtqueueDeviceOptions,
  type VirtqueueDeviceStats,
  type DeviceBuffer,
  type DeviceChain,
  type VringTranslate,
} from './vring-device.ts';
export { RawVring, type RawDesc, type RawUsedElem } from './vring-raw.ts';
