// The console's old path for the device-side vdev table walk, which now lives in
// src/virtio/vdev-locate.ts (shared with the rpmsg remote). Only re-exports: js-core-runtime.ts and
// the console tests still import from here; drop this file once they import the virtio module.

export * from '../virtio/vdev-locate.ts';
