// What the agent's host needs from the QEMU layer, in its own words: a VM process it can stop,
// save to a file or migrate away, and the ways to get one (boot, restore, receive, adopt). The
// adapter to src/agent/qemu lives in qemu-runtime.ts.

export interface VmProcessConfig {
  id: string;
  /** The VM's own directory: the QEMU layer keeps its pidfile, QMP socket and serial log here. */
  dir: string;
  cpu: number;
  memoryMiB: number;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  disks: Array<{ path: string; format: 'qcow2' | 'raw' }>;
  /** The NoCloud seed volume (iso9660), attached read-only after the disks. */
  seed?: string;
  /** The first NIC (the public one, or the private one of a private-only member). */
  nic: { mac: string; tap: string };
  /** NICs after the first, in order (a cluster member's private NIC). */
  moreNics?: Array<{ mac: string; tap: string }>;
  netns?: string;
  /** The cgroup.procs files of the VM's cgroups (vm-cgroups.ts): QEMU joins them before it starts. */
  cgroupProcs?: string[];
  /** The lease's disk I/O limits, for all the VM's disks together (the seed is left out: read once at boot). */
  diskThrottle?: { bytesPerSecond?: number; iops?: number };
}

export interface VmProcess {
  /** The OS process, where there is one: a restarted agent puts an adopted VM's back in its cgroups. */
  readonly pid?: number;
  /** Called once if the process ends without being told to (the guest powered off, QEMU crashed). */
  onExit(listener: (detail: string) => void): void;
  /** Graceful: the guest is asked to power off (ACPI) and killed if it does not in time. */
  stop(graceful: boolean): Promise<void>;
  /** Saves the whole VM state to `file`; the process is gone afterwards. */
  saveTo(file: string): Promise<{ ms: number; bytes: number }>;
  /** Migrates the running VM to a waiting receiver; the process is gone afterwards. */
  migrateTo(to: { address: string; port: number; diskPort?: number }): Promise<{ totalMs: number; downtimeMs: number }>;
  /** Lets go of the process without touching it (the agent stops; the VM runs on). */
  release(): Promise<void>;
}

export interface IncomingVm {
  port: number;
  diskPort?: number;
  /** Once the sender finished: the VM runs here. */
  finish(): Promise<VmProcess>;
  abort(): Promise<void>;
}

export interface VmRuntime {
  boot(config: VmProcessConfig): Promise<VmProcess>;
  restore(config: VmProcessConfig, file: string): Promise<{ vm: VmProcess; ms: number }>;
  /** A process waiting for a live migration on `address`. */
  receive(config: VmProcessConfig, address: string): Promise<IncomingVm>;
  /** The VM whose files are in `dir`, if its process still runs. */
  adopt(dir: string): Promise<VmProcess | null>;
}
