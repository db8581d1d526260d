import { spawn } from 'node:child_process';

interface ProcessLimits {
  /** The process is killed (SIGKILL) when it runs longer. */
  timeoutMs: number;
  /** The process is killed when it writes more to stdout; what it wrote up to then is kept. */
  maxStdoutBytes: number;
  /** Only the last bytes of stderr are kept, for the reason of a failure. */
  stderrTailBytes?: number;
  /** Called with each chunk of stdout (progress lines). */
  onStdout?: (chunk: Buffer) => void;
  /** false: stdout is only handed to `onStdout`, never collected (nor bounded). Default true. */
  keepStdout?: boolean;
  /** Aborting kills the process. */
  signal?: AbortSignal;
}

interface ProcessResult {
  exitCode: number | null;
  stdout: Buffer;
  /** The end of stderr, as text. */
  stderr: string;
  timedOut: boolean;
  /** stdout passed `maxStdoutBytes`. */
  overflowed: boolean;
  aborted: boolean;
}

/**
 * Runs a program with an argument array (never a shell), bounded in time and in what is read back.
 * Rejects only when the program cannot be started (ENOENT: not installed).
 */
export function runProcess(command: string, args: readonly string[], limits: ProcessLimits): Promise<ProcessResult> {
  const stderrTail = limits.stderrTailBytes ?? 8 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false, windowsHide: true });
    const chunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let timedOut = false;
    let overflowed = false;
    let aborted = false;
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, limits.timeoutMs);
    const onAbort = () => {
      aborted = true;
      kill();
    };
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    if (limits.signal?.aborted) onAbort();

    child.stdout.on('data', (chunk: Buffer) => {
      if (overflowed) return;
      limits.onStdout?.(chunk);
      if (limits.keepStdout === false) return;
      const room = limits.maxStdoutBytes - stdoutBytes;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, Math.max(0, room)));
        stdoutBytes = limits.maxStdoutBytes;
        overflowed = true;
        kill();
        return;
      }
      chunks.push(chunk);
      stdoutBytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > stderrTail) stderr = stderr.subarray(stderr.length - stderrTail);
    });
    const finish = () => {
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (error) => {
      finish();
      reject(error);
    });
    child.on('close', (code) => {
      finish();
      resolve({ exitCode: code, stdout: Buffer.concat(chunks), stderr: stderr.toString('utf8'), timedOut, overflowed, aborted });
    });
  });
}

/** The last non-empty line of a program's stderr, shortened: enough to say why it failed. */
export function lastLine(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  const line = lines.at(-1) ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
