// Public surface of rpmsg: the host role (Linux's virtio_rpmsg_bus: channels from the name service,
// endpoints, streams, the control/character devices and ttyRPMSG ports), the remote role
// (OpenAMP's rpmsg_virtio device side) and the wire format. Mirrors virtio_rpmsg_bus.c, rpmsg_ns.c,
// rpmsg_ctrl.c, rpmsg_char.c, rpmsg_tty.c and OpenAMP's rpmsg_virtio.c.

export * from './rpmsg-wire.ts';
export {
  RpmsgHost,
  type RpmsgDriver,
  type RpmsgHostEvents,
  type RpmsgHostOptions,
} from './host/rpmsg-host.ts';
export { RpmsgChannel } from './host/rpmsg-channel.ts';
export {
  DEFAULT_SEND_TIMEOUT_MS,
  RpmsgEndpoint,
  type RpmsgRxCallback,
  type RxContext,
  type SendOptions,
} from './host/rpmsg-endpoint.ts';
export { endpointStream, type EndpointStreamOptions } from './host/endpoint-stream.ts';
export {
  VirtioRpmsgBus,
  RPMSG_DEFAULT_MAX_CHANNELS,
  type RpmsgBufferConfig,
  type RpmsgDeviceEvents,
  type RpmsgDeviceStats,
} from './host/virtio-rpmsg-bus.ts';
export {
  RPMSG_CREATE_DEV_IOCTL,
  RPMSG_CREATE_EPT_IOCTL,
  RPMSG_ENDPOINT_INFO_SIZE,
  RpmsgCtrlDev,
  decodeEndpointInfo,
  encodeEndpointInfo,
} from './host/rpmsg-ctrl.ts';
export {
  POLL,
  RPMSG_CHAR_QUEUE_LIMIT,
  RPMSG_DESTROY_EPT_IOCTL,
  RpmsgEptDev,
  RpmsgEptFile,
  type RpmsgEndpointInfo,
  type RpmsgOpenFlags,
} from './host/rpmsg-char.ts';
export { RPMSG_TTY_NAME, RpmsgTtyDriver, RpmsgTtyPort, type RpmsgTtyEvents } from './host/rpmsg-tty.ts';
export {
  RpmsgVirtioDevice,
  RPMSG_REMOTE_SUPPORTED_FEATURES,
  RPMSG_MIN_BUF_SIZE,
  RPMSG_MAX_BUF_SIZE,
} from './remote/rpmsg-virtio-device.ts';
export {
  RemoteEndpoint,
  type RemoteEndpointCallback,
  type RemoteEndpointOptions,
} from './remote/remote-endpoint.ts';
export type {
  RemoteSendOptions,
  RemoteTimers,
  RemoteTranslate,
  RpmsgRemoteOptions,
  RpmsgRemoteState,
  RpmsgRemoteStats,
  RpmsgTxBuffer,
} from './remote/remote-types.ts';
export {
  findRpmsgVdev,
  readRpmsgNotifyIds,
  type FindRpmsgVdevOptions,
  type RpmsgNotifyIds,
  type RpmsgVdevLocation,
} from './remote/rpmsg-vdev-locate.ts';
