import type { ProjectStorage } from '../domain/project-storage.js';
import type { ProjectWithSecrets } from '../services/project.service.js';
import type { ShardLoad } from '../services/shard-placement.service.js';
import { commandTitle, HELP_COMMAND, type CommandSpec, type OptionSpec } from './args.js';

/** Printed once, on the start that created the default project: the operator needs these keys. */
export function printBootstrapKeys({ project, secrets }: ProjectWithSecrets): void {
  const lines = [
    '',
    `  Created project "${project.name}"`,
    `    public key: ${project.publicKey}`,
    ...secrets.map((s) => `    secret key: ${s.secret}`),
    '',
    '  Keep the secret key private. Show it again with: npx trove projects list --show-secrets',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** A project with the name of its region, as the command line prints it. */
export interface ProjectInRegion extends ProjectWithSecrets {
  region: string;
}

export function formatProjects(list: ProjectInRegion[], showSecrets: boolean): string {
  if (list.length === 0) return 'No projects yet. Create one with: trove projects create --name "My site"\n';
  const out: string[] = [];
  for (const { project, secrets, region } of list) {
    out.push(`${project.name}`);
    out.push(`  public key:     ${project.publicKey}`);
    out.push(`  region:         ${region}`);
    out.push(`  shard:          ${project.shard}`);
    out.push(`  auto store:     ${project.autoStore ? 'on' : 'off'}`);
    out.push(`  signed uploads: ${project.signedUploads ? 'required' : 'optional'}`);
    out.push(`  max file size:  ${project.maxFileSize ?? 'server limit'}`);
    out.push(`  allowed types:  ${project.allowedMimeTypes?.join(', ') ?? 'any'}`);
    out.push(`  scan on upload: ${project.scanOnUpload ? `on (infected files ${project.purgeInfected ? 'deleted' : 'kept, not delivered'})` : 'off'}`);
    for (const s of secrets) {
      out.push(`  secret key:     ${showSecrets ? s.secret : `${s.secret.slice(0, 4)}…`} (id ${s.id}, created ${s.createdAt})`);
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/** `trove shards list`: each shard with what it holds; a shard that does not answer says why. */
export function formatShards(loads: ShardLoad[]): string {
  const rows = [['SHARD', 'REGION', 'SOURCE', 'PROJECTS', 'FILES', 'BYTES', 'URL']];
  for (const load of loads) {
    rows.push([load.name, load.regionName, load.source, String(load.projects), load.files === null ? '?' : String(load.files), load.bytes === null ? '?' : String(load.bytes), load.url]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
  for (const load of loads) if (load.error !== null) lines.push(`${load.name} does not answer: ${load.error}`);
  return `${lines.join('\n')}\n`;
}

/** Storages without their credentials, which nothing prints. */
export function formatStorages(list: ProjectStorage[]): string {
  if (list.length === 0) return 'No storages yet. Register one with: trove storages add --public-key KEY --name NAME --bucket BUCKET …\n';
  const out: string[] = [];
  for (const storage of list) {
    out.push(storage.name);
    out.push(`  bucket:     ${storage.bucket}`);
    out.push(`  prefix:     ${storage.prefix || '(none)'}`);
    out.push(`  region:     ${storage.region}`);
    out.push(`  endpoint:   ${storage.endpoint ?? 'AWS'}${storage.forcePathStyle ? ' (path style)' : ''}`);
    out.push(`  pattern:    ${storage.pattern}`);
    out.push(`  created:    ${storage.createdAt}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/** `--name NAME` for a value option, `--show-secrets` for a switch; optional ones in brackets. */
function optionUsage(option: OptionSpec): string {
  const text = option.value === undefined ? `--${option.name}` : `--${option.name} ${option.value}`;
  return option.required ? text : `[${text}]`;
}

/** Breaks a usage line between words, continuing under the first word after the prefix. */
function wrap(prefix: string, words: string[], width = 100): string {
  const lines: string[] = [];
  let line = prefix.trimEnd();
  let onLine = 0;
  for (const word of words) {
    if (onLine > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = ' '.repeat(prefix.trimEnd().length);
      onLine = 0;
    }
    line += ` ${word}`;
    onLine++;
  }
  lines.push(line);
  return lines.join('\n');
}

function table(rows: Array<[string, string]>): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}   ${right}`);
}

/**
 * Help generated from the same declaration the parser checks against, so it cannot drift from what
 * the command accepts. `path` names a command, a group of subcommands, or nothing for the overview.
 */
export function formatHelp(commands: readonly CommandSpec[], path: readonly string[]): string {
  const command = commands.find((c) => c.path.length === path.length && c.path.every((word, i) => word === path[i]));
  if (command) return formatCommandHelp(command);
  const title = commandTitle(path);
  const listed = commands.filter((c) => path.every((word, i) => c.path[i] === word));
  const rows = listed.map((c): [string, string] => [commandTitle(c.path).slice('trove '.length), c.summary]);
  if (path.length === 0) rows.push([`${HELP_COMMAND} [COMMAND]`, 'show the options of a command']);
  const placeholder = path.length === 0 ? '<command>' : '<subcommand>';
  return [
    `Usage: ${title} ${placeholder} [options]`,
    '',
    'Commands:',
    ...table(rows),
    '',
    `Run "${title} ${placeholder} --help" for the options of one.`,
    '',
  ].join('\n');
}

function formatCommandHelp(command: CommandSpec): string {
  const title = commandTitle(command.path);
  const positionals = command.positionals ?? [];
  const rows = [
    ...positionals.map((p): [string, string] => [p.name.toUpperCase(), `${p.description} (required)`]),
    ...command.options.map((o): [string, string] => [
      o.value === undefined ? `--${o.name}` : `--${o.name} ${o.value}`,
      o.required ? `${o.description} (required)` : o.description,
    ]),
  ];
  rows.push(['--help, -h', 'show this help']);
  return [
    wrap(`Usage: ${title} `, [...positionals.map((p) => p.name.toUpperCase()), ...command.options.map(optionUsage)]),
    '',
    `${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.`,
    '',
    'Options:',
    ...table(rows),
    '',
  ].join('\n');
}
