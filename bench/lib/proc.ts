/**
 * Reading a process's CPU time and memory from Linux /proc, the way `ps` and `top` do.
 *
 * - CPU: fields 14 (utime) and 15 (stime) of /proc/<pid>/stat, in clock ticks (CLK_TCK, 100 on
 *   Linux), summed over every thread of the process (libuv's pool, GC and TLS threads included).
 * - Memory: VmRSS of /proc/<pid>/status, in kB (resident set: what the process really occupies).
 * - Waiting for a CPU: /proc/<pid>/task/<tid>/schedstat (time runnable but not running).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of utime/stime (sysconf(_SC_CLK_TCK)); 100 on every Linux we know. */
export const CLK_TCK: number = (() => {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    return 100;
  }
})();

/**
 * utime + stime in clock ticks from the text of /proc/<pid>/stat. The second field (comm) is in
 * parentheses and may itself hold spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseStatTicks(stat: string): number {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line');
  // After ") " come field 3 (state) onwards; utime is field 14, stime field 15.
  const fields = stat.slice(close + 2).trim().split(/\s+/);
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('malformed /proc/<pid>/stat line');
  return utime + stime;
}

/** A kB field of /proc/<pid>/status (VmRSS, RssAnon, RssFile, …); NaN when absent (a zombie has none). */
export function parseStatusKb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return m ? Number(m[1]) : NaN;
}

/** VmRSS in kB from the text of /proc/<pid>/status. */
export function parseVmRssKb(status: string): number {
  return parseStatusKb(status, 'VmRSS');
}

/**
 * RSS split: `anon` is the process's own memory (heaps, buffers); `file` are pages of mapped files,
 * mostly the executable's code (the node binary alone is ~45 MB of it), shared with other processes
 * running the same binary.
 */
export function rssSplitKb(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: parseStatusKb(status, 'VmRSS'), anon: parseStatusKb(status, 'RssAnon'), file: parseStatusKb(status, 'RssFile') + parseStatusKb(status, 'RssShmem') };
}

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number {
  return parseStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / CLK_TCK;
}

/**
 * Seconds a thread has spent runnable but waiting for a CPU (on a run queue), from the second field
 * of a /proc/<pid>/task/<tid>/schedstat line (nanoseconds).
 */
export function parseSchedstatWaitSeconds(schedstat: string): number {
  const ns = Number(schedstat.trim().split(/\s+/)[1]);
  if (!Number.isFinite(ns)) throw new Error('malformed schedstat line');
  return ns / 1e9;
}

/**
 * Run-queue wait of a thread so far (seconds); undefined where the kernel does not keep it. The
 * thread defaults to the process's main thread, which for Node is the event loop: while it waits, no
 * message is read or delivered.
 */
export function runQueueWaitSeconds(pid: number, tid = pid): number | undefined {
  try {
    return parseSchedstatWaitSeconds(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Resident memory in kB. */
export function rssKb(pid: number): number {
  return parseVmRssKb(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** CPU seconds of several processes, each read once (a missing process counts 0). */
export function cpuSecondsOf(pids: readonly number[]): number[] {
  return pids.map((pid) => { try { return cpuSeconds(pid); } catch { return 0; } });
}

/** The CPU model line of /proc/cpuinfo ("model name"), or the architecture when there is none (ARM). */
export function parseCpuModel(cpuinfo: string): string {
  const m = /^(?:model name|Model|Hardware)\s*:\s*(.+)$/m.exec(cpuinfo);
  return m?.[1]?.trim() ?? os.arch();
}

export interface Machine { nproc: number; cpuModel: string; memTotalMb: number; kernel: string; node: string }

export function machine(): Machine {
  let cpuinfo = '';
  try { cpuinfo = readFileSync('/proc/cpuinfo', 'utf8'); } catch { /* not Linux */ }
  return {
    nproc: os.availableParallelism(),
    cpuModel: parseCpuModel(cpuinfo),
    memTotalMb: Math.round(os.totalmem() / 1048576),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

/**
 * Samples a process's CPU time and RSS: `mark()` takes a snapshot, `since(mark)` gives the CPU
 * seconds spent and wall seconds passed between the snapshot and now.
 */
export interface CpuMark { cpu: number; wall: number }

export function markCpu(pid: number): CpuMark {
  return { cpu: cpuSeconds(pid), wall: performance.now() / 1000 };
}

export function cpuSince(pid: number, mark: CpuMark): { cpuSeconds: number; wallSeconds: number; percent: number } {
  const now = markCpu(pid);
  const cpu = now.cpu - mark.cpu;
  const wall = now.wall - mark.wall;
  return { cpuSeconds: cpu, wallSeconds: wall, percent: wall > 0 ? (100 * cpu) / wall : NaN };
}

/**
 * Busy CPU seconds of the whole machine so far, from the first line of /proc/stat (user + nice +
 * system + irq + softirq + steal, in CLK_TCK ticks; idle and iowait left out). Subtracting the
 * processes the bench measured gives what everything else on the machine used meanwhile: the noise.
 */
export function parseProcStatBusyTicks(procStat: string): number {
  const line = procStat.split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return user + nice + system + irq + softirq + steal;
}

export function machineBusySeconds(): number {
  try { return parseProcStatBusyTicks(readFileSync('/proc/stat', 'utf8')) / CLK_TCK; } catch { return NaN; }
}

export interface TcpSocketRow { localPort: number; remotePort: number; state: number; txQueue: number; rxQueue: number }

/**
 * Rows of /proc/net/tcp: ports and the kernel queues in bytes (`tx_queue`: written by the process,
 * not yet acknowledged by the peer — it grows when the peer stops reading; `rx_queue`: received, not
 * yet read by the process). Addresses are hex `IP:PORT`, queues hex `TX:RX`.
 */
export function parseProcNetTcp(text: string): TcpSocketRow[] {
  const rows: TcpSocketRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const [, local = '', remote = '', st = '', queues = ''] = f;
    const [tx = '0', rx = '0'] = queues.split(':');
    rows.push({
      localPort: parseInt(local.split(':')[1] ?? '0', 16),
      remotePort: parseInt(remote.split(':')[1] ?? '0', 16),
      state: parseInt(st, 16),
      txQueue: parseInt(tx, 16),
      rxQueue: parseInt(rx, 16),
    });
  }
  return rows;
}

/**
 * Bytes waiting in the kernel on both sides of the connections to a local server port: in the
 * clients' send queues (what backpressure holds back at the senders) and in the server's receive
 * queues (read by nobody yet).
 */
export function tcpQueuesOf(serverPort: number): { clientSendQ: number; serverRecvQ: number } {
  let text = '';
  try { text = readFileSync('/proc/net/tcp', 'utf8'); } catch { return { clientSendQ: NaN, serverRecvQ: NaN }; }
  let clientSendQ = 0;
  let serverRecvQ = 0;
  for (const r of parseProcNetTcp(text)) {
    if (r.remotePort === serverPort) clientSendQ += r.txQueue;
    if (r.localPort === serverPort && r.remotePort !== 0) serverRecvQ += r.rxQueue;
  }
  return { clientSendQ, serverRecvQ };
}
