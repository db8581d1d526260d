import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ServiceLogger } from '../../src/wiring/basics.js';

const run = promisify(execFile);

/** Runs Debian's ffmpeg at the lowest priority (the machine is shared) and returns the file it wrote. */
export async function ffmpegClip(dir: string, name: string, args: string[]): Promise<Buffer> {
  const target = path.join(dir, name);
  await run('nice', ['-n', '19', 'ffmpeg', '-v', 'error', '-y', ...args, target]);
  return readFile(target);
}

/** A test pattern with a tone: `seconds` long, `size` (WxH), 15 frames per second, H.264 + AAC in MP4. */
export function testClip(dir: string, name: string, options: { seconds?: number; size?: string; extra?: string[] } = {}): Promise<Buffer> {
  const seconds = String(options.seconds ?? 1);
  return ffmpegClip(dir, name, [
    '-f', 'lavfi', '-i', `testsrc=duration=${seconds}:size=${options.size ?? '160x120'}:rate=15`,
    '-f', 'lavfi', '-i', `sine=duration=${seconds}:frequency=440`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest',
    ...(options.extra ?? []),
  ]);
}

/** Keeps what services log, to check a reason was given. */
export class RecordingLogger implements ServiceLogger {
  readonly entries: { level: string; object: Record<string, unknown>; message: string }[] = [];
  info(object: Record<string, unknown>, message: string): void {
    this.entries.push({ level: 'info', object, message });
  }
  warn(object: Record<string, unknown>, message: string): void {
    this.entries.push({ level: 'warn', object, message });
  }
  error(object: Record<string, unknown>, message: string): void {
    this.entries.push({ level: 'error', object, message });
  }
  about(uuid: string): { level: string; object: Record<string, unknown>; message: string }[] {
    return this.entries.filter((entry) => entry.object.uuid === uuid);
  }
}
