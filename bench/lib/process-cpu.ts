import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU seconds (user + system) a process has used, from /proc/<pid>/stat (clock ticks, USER_HZ 100);
 * with `children`, plus what its exited, reaped children used.
 */
export function processCpuSeconds(pid: number | string, children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    return (children ? own + Number(fields[13]) + Number(fields[14]) : own) / 100;
  } catch {
    return 0; // the process ended meanwhile
  }
}

/** CPU seconds of a process and its child processes (the HTTP processes when TROVE_WORKERS > 1). */
export function processTreeCpuSeconds(pid: number): number {
  let total = processCpuSeconds(pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) total += processCpuSeconds(entry);
    } catch {
      // gone
    }
  }
  return total;
}
