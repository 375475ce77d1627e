// The monitor's public entry: QEMU-monitor-style commands over a virtual SoC. See
// docs/debugging.md, "Monitor".

export { Monitor, type MonitorOptions } from './monitor.ts';
