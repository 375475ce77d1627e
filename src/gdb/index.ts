// The GDB stub's public entry: the server (QEMU's -gdb tcp::PORT) over the rv32 cores' debug
// ports, and the session for other transports. See docs/debugging.md, "GDB".

export { GDB_DEFAULT_HOST, GdbServer, type GdbServerEvents, type GdbServerOptions } from './gdb-server.ts';
export { GdbSession, PACKET_SIZE, type GdbSessionOptions } from './gdb-session.ts';
