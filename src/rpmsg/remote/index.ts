// Public surface of the rpmsg remote (device) role: the virtio rpmsg device firmware uses to talk to
// a Linux-compatible host, its endpoints, and the resource-table helpers it needs to find its vdev.
// Mirrors OpenAMP's rpmsg_virtio.c (VIRTIO_DEV_DEVICE) and rpmsg.h endpoint API.

export {
  RpmsgVirtioDevice,
  RPMSG_REMOTE_SUPPORTED_FEATURES,
  RPMSG_MIN_BUF_SIZE,
  RPMSG_MAX_BUF_SIZE,
} from './rpmsg-virtio-device.ts';
export {
  RemoteEndpoint,
  type RemoteEndpointCallback,
  type RemoteEndpointOptions,
} from './remote-endpoint.ts';
export type {
  RemoteSendOptions,
  RemoteTimers,
  RemoteTranslate,
  RpmsgRemoteOptions,
  RpmsgRemoteState,
  RpmsgRemoteStats,
  RpmsgTxBuffer,
} from './remote-types.ts';
export {
  findRpmsgVdev,
  readRpmsgNotifyIds,
  LiveVdev,
  RPMSG_VRING_TX,
  RPMSG_VRING_RX,
  type FindRpmsgVdevOptions,
  type LiveVring,
  type RpmsgNotifyIds,
  type RpmsgVdevLocation,
  type RscVringGeometry,
} from './rpmsg-vdev-locate.ts';
