// Public surface of the platform layer: the user-facing interface that the virtual SoC and the
// Linux backend both implement (remote processors, their channels, endpoints), and the small
// pieces both build it from.

export * from './remote-processors.ts';
export { WatchedEmitter, type EventSource } from './watched-emitter.ts';
export { MessageQueue, messagesOf, DEFAULT_QUEUE_LIMIT } from './message-queue.ts';
