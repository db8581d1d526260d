import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DocumentError } from '../../ports/document-renderer.js';
import type { OfficeConverter, OfficeConverterStatus } from '../../ports/office-converter.js';

interface LibreOfficeSettings {
  /** The `soffice` program. */
  program: string;
  /** Deadline of one conversion; the whole process group is killed past it. */
  timeoutMs: number;
  /** Where each run makes its own directory (input, output, profile), removed afterwards. */
  scratchDir: string;
  /** Largest PDF read back. */
  maxOutputBytes: number;
  /** PATH of the program's environment. */
  searchPath: string;
}

/** Debian's packages with the three converters Trove uses, without a desktop. */
const PACKAGES = 'libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui';
const VERSION_TIMEOUT_MS = 30_000;

/**
 * The settings of each run's fresh profile: no macros run, and linked content (images, OLE links)
 * from other places is not fetched, so a document cannot make the server reach the network.
 */
const PROFILE_SETTINGS = `<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseOpenCL" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
`;

interface RunResult {
  code: number | null;
  timedOut: boolean;
  stderr: string;
}

/**
 * Office documents to PDF through LibreOffice, one headless process per conversion: its own
 * profile directory (so runs share no state and no lock), the input as a local file, a minimal
 * environment, a deadline that kills the whole process group (soffice starts soffice.bin), and
 * every file removed afterwards.
 */
export class LibreOfficeConverter implements OfficeConverter {
  private known: Promise<OfficeConverterStatus> | null = null;

  constructor(private readonly settings: LibreOfficeSettings) {}

  status(): Promise<OfficeConverterStatus> {
    this.known ??= this.sweepScratch().then(() => this.check());
    return this.known;
  }

  async toPdf(document: Buffer, extension: string): Promise<Buffer> {
    const status = await this.status();
    if (!status.available) throw new Error(status.reason);
    if (!/^[a-z0-9]{1,8}$/.test(extension)) throw new DocumentError('DOCUMENT_INVALID', `"${extension.slice(0, 20)}" is not a document format.`);
    const dir = await mkdtemp(path.join(this.settings.scratchDir, 'trove-office-'));
    try {
      const profile = path.join(dir, 'profile');
      const output = path.join(dir, 'out');
      const input = path.join(dir, `input.${extension}`);
      await writeFile(input, document);
      await writeProfile(profile);
      const run = await this.run(
        ['-env:UserInstallation=' + pathToFileURL(profile).href, '--headless', '--invisible', '--nologo', '--nodefault', '--norestore', '--nolockcheck', '--convert-to', 'pdf', '--outdir', output, input],
        dir,
        this.settings.timeoutMs,
      );
      if (run.timedOut) throw new DocumentError('DOCUMENT_TIMEOUT', `LibreOffice took longer than ${this.settings.timeoutMs} ms to convert the document and was stopped.`);
      const produced = await readdir(output).catch(() => [] as string[]);
      const pdf = produced.find((name) => name.endsWith('.pdf'));
      if (run.code !== 0 || !pdf) {
        const reason = lastLine(run.stderr) || `it exited with code ${run.code}`;
        throw new DocumentError('DOCUMENT_INVALID', `LibreOffice could not convert the document: ${reason}.`);
      }
      const file = path.join(output, pdf);
      const { size } = await stat(file);
      if (size > this.settings.maxOutputBytes) throw new DocumentError('DOCUMENT_TOO_LARGE', `The converted PDF has ${size} bytes, beyond the ${this.settings.maxOutputBytes} Trove keeps.`);
      return await readFile(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Removes run directories a crashed process left behind: any older than a run's deadline and an
   * hour is no run's any more.
   */
  private async sweepScratch(): Promise<void> {
    const cutoff = Date.now() - this.settings.timeoutMs - 3_600_000;
    const names = await readdir(this.settings.scratchDir).catch(() => [] as string[]);
    for (const name of names.filter((entry) => entry.startsWith('trove-office-'))) {
      const dir = path.join(this.settings.scratchDir, name);
      const info = await stat(dir).catch(() => null);
      if (info?.isDirectory() && info.mtimeMs < cutoff) await rm(dir, { recursive: true, force: true });
    }
  }

  private async check(): Promise<OfficeConverterStatus> {
    const missing = `LibreOffice is not installed here (TROVE_LIBREOFFICE_PATH=${this.settings.program}); install it (Debian: apt-get install ${PACKAGES}) to convert Office documents.`;
    let dir: string | null = null;
    try {
      dir = await mkdtemp(path.join(this.settings.scratchDir, 'trove-office-check-'));
      const run = await this.run([`-env:UserInstallation=${pathToFileURL(path.join(dir, 'profile')).href}`, '--headless', '--version'], dir, VERSION_TIMEOUT_MS);
      if (run.code !== 0) return { available: false, reason: missing };
      return { available: true };
    } catch {
      return { available: false, reason: missing };
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  /** Runs soffice in a process group of its own, so the deadline kills it and every process it started. */
  private run(args: string[], home: string, timeoutMs: number): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.settings.program, args, {
        cwd: home,
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe'],
        shell: false,
        // No inherited secrets or proxies: a PATH to find its own helpers, and a home in the scratch directory.
        env: { PATH: this.settings.searchPath, HOME: home, TMPDIR: home, LANG: 'C.UTF-8', SAL_USE_VCLPLUGIN: 'svp' },
      });
      let stderr = '';
      let timedOut = false;
      const killGroup = () => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // The group has already ended.
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, timeoutMs);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-4096);
      });
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        // soffice.bin may outlive its launcher; nothing of the group may stay behind.
        killGroup();
        resolve({ code, timedOut, stderr });
      });
    });
  }
}

async function writeProfile(profile: string): Promise<void> {
  const user = path.join(profile, 'user');
  await mkdir(user, { recursive: true });
  await writeFile(path.join(user, 'registrymodifications.xcu'), PROFILE_SETTINGS);
}

function lastLine(text: string): string {
  const line = text.split('\n').map((part) => part.trim()).filter(Boolean).at(-1) ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
