#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { DEFAULT_ROLES, ROLES, type Role } from './config/config.js';
import { ENV_VARS, loadConfigFromEnvironment, type loadConfig } from './config/load-config.js';
import { parseCommandLine, UsageError, type CommandSpec, type OptionSpec, type ParsedOptions } from './cli/args.js';
import { formatHelp, formatProjects, formatShards, formatStorages, type ProjectInRegion } from './cli/print.js';
import { serve } from './cli/serve.js';
import { ConfigError, isAppError } from './errors.js';
import { systemClock } from './lib/clock.js';
import type { ProjectService, ProjectWithSecrets } from './services/project.service.js';
import type { ProjectStorageService } from './services/project-storage.service.js';
import { parseBoolean, parseBytes } from './config/parse-values.js';
import { openMetadataStore, openShards } from './wiring/storage.js';
import { withAdministration } from './wiring/administration.js';
import type { MoveProgress } from './services/project-move.service.js';
import { createProjectStorages } from './wiring/storages.js';
import { withAnalysisBackfill } from './wiring/analysis-backfill.js';

interface Command<N extends string = string> extends CommandSpec<N> {
  run(options: ParsedOptions<N>): Promise<void>;
}

/** Ties a handler to its own option names, so reading an undeclared option is a type error. */
function command<N extends string>(spec: Command<N>): Command {
  return spec;
}

function parseRoles(raw: string): Role[] {
  const roles = raw.split(',').map((r) => r.trim());
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length > 0) throw new Error(`expected a comma-separated list of ${ROLES.join(', ')}, got "${raw}"`);
  return roles as Role[];
}

const parseMaxFileSize = (raw: string): number | null => (raw === 'none' ? null : parseBytes(raw));
const parseAllowedTypes = (raw: string): string[] | null => (raw === 'any' ? null : raw.split(',').map((t) => t.trim()));

const SETTING_OPTIONS = [
  { name: 'auto-store', value: 'true|false', description: 'store uploads at once (UPLOADCARE_STORE=auto follows this)', validate: parseBoolean },
  { name: 'signed-uploads', value: 'true|false', description: 'require a signature on every upload', validate: parseBoolean },
  { name: 'max-file-size', value: 'SIZE', description: 'largest file accepted, e.g. 100MiB, or none for the server limit', validate: parseMaxFileSize },
  { name: 'allowed-types', value: 'TYPES', description: 'comma-separated MIME types such as image/*,application/pdf, or any', validate: parseAllowedTypes },
  { name: 'scan-on-upload', value: 'true|false', description: 'scan every new upload with ClamAV (TROVE_CLAMD_URL) and deliver it only once found clean', validate: parseBoolean },
  { name: 'purge-infected', value: 'true|false', description: 'delete uploads the scan finds infected (otherwise kept, never delivered)', validate: parseBoolean },
] as const satisfies readonly OptionSpec[];

type SettingName = (typeof SETTING_OPTIONS)[number]['name'];

function projectSettings(options: ParsedOptions<SettingName>) {
  const autoStore = options.value('auto-store');
  const signed = options.value('signed-uploads');
  const maxSize = options.value('max-file-size');
  const types = options.value('allowed-types');
  const scan = options.value('scan-on-upload');
  const purge = options.value('purge-infected');
  return {
    ...(autoStore !== undefined ? { autoStore: parseBoolean(autoStore) } : {}),
    ...(signed !== undefined ? { signedUploads: parseBoolean(signed) } : {}),
    ...(maxSize !== undefined ? { maxFileSize: parseMaxFileSize(maxSize) } : {}),
    ...(types !== undefined ? { allowedMimeTypes: parseAllowedTypes(types) } : {}),
    ...(scan !== undefined ? { scanOnUpload: parseBoolean(scan) } : {}),
    ...(purge !== undefined ? { purgeInfected: parseBoolean(purge) } : {}),
  };
}

async function withProjects<T>(config: ReturnType<typeof loadConfig>, run: (service: ProjectService) => Promise<T>): Promise<T> {
  return withAdministration(config, (admin) => run(admin.projects));
}

/** Projects with the name of their region (their shard's), as `projects list` and `create` print them. */
async function withRegions(config: ReturnType<typeof loadConfig>, run: (service: ProjectService) => Promise<ProjectWithSecrets[]>): Promise<ProjectInRegion[]> {
  return withAdministration(config, async (admin) => {
    const list = await run(admin.projects);
    return Promise.all(list.map(async (entry) => ({ ...entry, region: await admin.placement.regionOf(entry.project.shard) })));
  });
}

async function withStorages<T>(config: ReturnType<typeof loadConfig>, run: (projects: ProjectService, storages: ProjectStorageService) => Promise<T>): Promise<T> {
  return withAdministration(config, (admin) => run(admin.projects, createProjectStorages(config, admin.main.storages, systemClock)));
}

/** A secret from a file, or from standard input for `-`: never on the command line, where `ps` shows it. */
async function readSecretFile(file: string): Promise<string> {
  const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  return text.replace(/\r?\n$/, '');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const PROJECT_OPTION = { name: 'public-key', value: 'KEY', required: true, description: 'public key of the project' } as const;

const COMMANDS: readonly Command[] = [
  command({
    path: ['serve'],
    summary: 'run the server (the default command)',
    options: [{ name: 'roles', value: 'ROLES', description: `comma-separated roles to serve, of ${ROLES.join(', ')} (default: ${DEFAULT_ROLES.join(',')})`, validate: parseRoles }],
    run: (options) => {
      const roles = options.value('roles');
      return serve(loadConfigFromEnvironment(roles ? { roles: parseRoles(roles) } : {}));
    },
  }),
  command({
    path: ['migrate'],
    summary: 'apply database migrations',
    options: [],
    run: async () => {
      const config = loadConfigFromEnvironment();
      const { store, applied } = await openMetadataStore(config.database);
      try {
        process.stdout.write(applied.length ? `main: applied ${applied.join(', ')}\n` : 'main: up to date\n');
        // Opening the shards migrates each one; a shard that does not answer is reported and fails the command.
        const shards = await openShards(config, store);
        try {
          let unreachable = 0;
          for (const description of shards.describe().filter((shard) => shard.name !== 'main')) {
            try {
              await shards.ping(description.name);
              const done = shards.appliedMigrations().get(description.name) ?? [];
              process.stdout.write(done.length ? `${description.name}: applied ${done.join(', ')}\n` : `${description.name}: up to date\n`);
            } catch (error) {
              unreachable += 1;
              process.stdout.write(`${description.name}: NOT MIGRATED (${(error as Error).message})\n`);
            }
          }
          if (unreachable > 0) process.exitCode = 1;
        } finally {
          await shards.close();
        }
      } finally {
        await store.close();
      }
    },
  }),
  command({
    path: ['projects', 'list'],
    summary: 'list projects and their keys',
    options: [{ name: 'show-secrets', description: 'print secret keys in full' }],
    run: async (options) => {
      const list = await withRegions(loadConfigFromEnvironment(), (s) => s.list());
      process.stdout.write(formatProjects(list, options.has('show-secrets')));
    },
  }),
  command({
    path: ['projects', 'create'],
    summary: 'create a project and print its keys',
    options: [
      { name: 'name', value: 'NAME', required: true, description: 'project name' },
      { name: 'public-key', value: 'KEY', description: 'public key to use (default: generated)' },
      { name: 'region', value: 'REGION', description: 'region to keep its files in (default: TROVE_DEFAULT_REGION)' },
      { name: 'shard', value: 'SHARD', description: 'shard to keep its files on (default: the least loaded of the region)' },
      ...SETTING_OPTIONS,
    ],
    run: async (options) => {
      const name = options.required('name');
      const publicKey = options.value('public-key');
      const shard = options.value('shard');
      const region = options.value('region');
      const settings = projectSettings(options);
      const created = await withRegions(loadConfigFromEnvironment(), async (s) => [
        await s.create({ name, ...(publicKey ? { publicKey } : {}), ...(shard ? { shard } : {}), ...(region ? { region } : {}), ...settings }),
      ]);
      process.stdout.write(formatProjects(created, true));
    },
  }),
  command({
    path: ['projects', 'update'],
    summary: 'change the settings of a project',
    options: [
      { name: 'public-key', value: 'KEY', required: true, description: 'public key of the project to change' },
      { name: 'name', value: 'NAME', description: 'new project name' },
      ...SETTING_OPTIONS,
    ],
    run: async (options) => {
      const publicKey = options.required('public-key');
      const name = options.value('name');
      const changes = { ...projectSettings(options), ...(name ? { name } : {}) };
      const list = await withRegions(loadConfigFromEnvironment(), async (s) => {
        await s.update(publicKey, changes);
        return s.list();
      });
      process.stdout.write(formatProjects(list.filter((p) => p.project.publicKey === publicKey), false));
    },
  }),
  command({
    path: ['keys', 'create'],
    summary: 'add a secret key to a project (rotation: a project may have several)',
    options: [{ name: 'public-key', value: 'KEY', required: true, description: 'public key of the project' }],
    run: async (options) => {
      const publicKey = options.required('public-key');
      const key = await withProjects(loadConfigFromEnvironment(), (s) => s.addSecret(publicKey));
      process.stdout.write(`secret key: ${key.secret} (id ${key.id})\n`);
    },
  }),
  command({
    path: ['keys', 'revoke'],
    summary: 'revoke a secret key',
    options: [
      { name: 'public-key', value: 'KEY', required: true, description: 'public key of the project' },
      { name: 'id', value: 'KEY_ID', required: true, description: 'id of the secret key, as printed by projects list' },
    ],
    run: async (options) => {
      const publicKey = options.required('public-key');
      const id = options.required('id');
      await withProjects(loadConfigFromEnvironment(), (s) => s.revokeSecret(publicKey, id));
      process.stdout.write(`revoked ${id}\n`);
    },
  }),
  command({
    path: ['storages', 'list'],
    summary: 'list the storages a project copies files to (POST /files/remote_copy/)',
    options: [PROJECT_OPTION],
    run: async (options) => {
      const publicKey = options.required('public-key');
      const list = await withStorages(loadConfigFromEnvironment(), async (projects, storages) => storages.list(await projects.findByPublicKey(publicKey)));
      process.stdout.write(formatStorages(list));
    },
  }),
  command({
    path: ['storages', 'add'],
    summary: 'register an S3 or S3-compatible storage, after checking that its credentials can write to it',
    options: [
      PROJECT_OPTION,
      { name: 'name', value: 'NAME', required: true, description: 'what `target` of a remote copy names' },
      { name: 'bucket', value: 'BUCKET', required: true, description: 'bucket name' },
      { name: 'access-key-id', value: 'ID', required: true, description: 'access key id' },
      { name: 'secret-access-key-file', value: 'FILE', description: 'file holding the secret access key, or - for standard input' },
      { name: 'secret-access-key', value: 'SECRET', description: 'the secret access key itself (visible to other users of this machine: prefer the file)' },
      { name: 'prefix', value: 'PREFIX', description: 'folder the copies go under' },
      { name: 'region', value: 'REGION', description: 'bucket region (default us-east-1)' },
      { name: 'endpoint', value: 'URL', description: 'origin of an S3-compatible service, e.g. https://minio.example.com:9000' },
      { name: 'force-path-style', value: 'true|false', description: 'bucket in the path rather than the host name (most S3-compatible services)', validate: parseBoolean },
      { name: 'pattern', value: 'PATTERN', description: 'object key pattern when a copy gives none (default ${default})' },
    ],
    run: async (options) => {
      const publicKey = options.required('public-key');
      const file = options.value('secret-access-key-file');
      const given = options.value('secret-access-key');
      if ((file === undefined) === (given === undefined)) {
        throw new UsageError(['Give the secret access key with exactly one of --secret-access-key-file FILE and --secret-access-key SECRET.', 'Run "trove storages add --help" for details.']);
      }
      const secretAccessKey = file !== undefined ? await readSecretFile(file) : (given ?? '');
      const forcePathStyle = options.value('force-path-style');
      const created = await withStorages(loadConfigFromEnvironment(), async (projects, storages) =>
        storages.register(await projects.findByPublicKey(publicKey), {
          name: options.required('name'),
          bucket: options.required('bucket'),
          accessKeyId: options.required('access-key-id'),
          secretAccessKey,
          prefix: options.value('prefix') ?? null,
          region: options.value('region') ?? null,
          endpoint: options.value('endpoint') ?? null,
          forcePathStyle: forcePathStyle === undefined ? null : parseBoolean(forcePathStyle),
          pattern: options.value('pattern') ?? null,
        }),
      );
      process.stdout.write(`Registered storage "${created.name}" (checked: Trove can write to it).\n${formatStorages([created])}`);
    },
  }),
  command({
    path: ['storages', 'remove'],
    summary: 'forget a storage and its credentials (copied objects stay in the bucket)',
    options: [PROJECT_OPTION, { name: 'name', value: 'NAME', required: true, description: 'name of the storage' }],
    run: async (options) => {
      const publicKey = options.required('public-key');
      const name = options.required('name');
      await withStorages(loadConfigFromEnvironment(), async (projects, storages) => storages.remove(await projects.findByPublicKey(publicKey), name));
      process.stdout.write(`removed storage "${name}"\n`);
    },
  }),
  command({
    path: ['projects', 'move'],
    summary: 'move a project’s files to another shard or region while it stays online (run it again to resume an interrupted move)',
    options: [
      PROJECT_OPTION,
      { name: 'to', value: 'SHARD', description: 'shard to move the project to' },
      { name: 'region', value: 'REGION', description: 'region to move the project to (its least loaded shard, unless --to names one of its shards); its originals are copied there' },
      { name: 'rollback', description: 'undo the project’s move under way, if it has not switched yet' },
    ],
    run: async (options) => {
      const publicKey = options.required('public-key');
      const to = options.value('to');
      const region = options.value('region');
      const rollback = options.has('rollback');
      if (rollback === (to !== undefined || region !== undefined)) {
        throw new UsageError(['Give --to SHARD, --region REGION (or both), or --rollback.', 'Run "trove projects move --help" for details.']);
      }
      const report = (progress: MoveProgress) => {
        if (progress.step === 'phase') process.stderr.write(`${progress.phase}${progress.detail ? `: ${progress.detail}` : ''}\n`);
        else if (progress.step === 'regions') process.stderr.write(`  waiting for the configuration copies of ${progress.behind.map((copy) => copy.region).join(', ')} to apply change ${progress.seq}\n`);
        else if (progress.step === 'originals') process.stderr.write(`  originals: ${progress.copied} copied, ${progress.present} there already, ${progress.absent} gone\n`);
        else if (progress.rows % 1000 === 0 || progress.rows < 200) process.stderr.write(`  ${progress.step} ${progress.table}: ${progress.rows} rows\n`);
      };
      const move = await withAdministration(loadConfigFromEnvironment(), async (admin) => {
        if (rollback) return admin.moves.rollback(publicKey, { onProgress: report });
        const target = to ?? (await admin.moves.targetInRegion(publicKey, region ?? '', admin.placement));
        if (region !== undefined && to !== undefined) await admin.placement.choose(to, region);
        return admin.moves.move(publicKey, target, { onProgress: report });
      });
      process.stdout.write(`project ${publicKey}: ${move.phase === 'done' ? `moved from "${move.from}" to "${move.to}"` : `move to "${move.to}" ${move.phase}`}\n`);
    },
  }),
  command({
    path: ['shards', 'list'],
    summary: 'list the shards with their projects, files and bytes',
    options: [],
    run: async () => {
      const loads = await withAdministration(loadConfigFromEnvironment(), (admin) => admin.placement.loads());
      process.stdout.write(formatShards(loads));
    },
  }),
  command({
    path: ['shards', 'add'],
    summary: 'add a shard database (checked, migrated and recorded in the main database; running servers find it on first use)',
    positionals: [
      { name: 'name', description: 'shard name: lowercase letters, digits, - or _' },
      { name: 'url', description: 'database URL, the main database’s engine (postgres://… or sqlite:///path)' },
    ],
    options: [{ name: 'region', value: 'REGION', description: 'the region the shard serves (default: TROVE_DEFAULT_REGION)' }],
    run: async (options) => {
      const region = options.value('region');
      const added = await withAdministration(loadConfigFromEnvironment(), async (admin) =>
        admin.shards.add(options.required('name'), options.required('url'), region === undefined ? null : admin.placement.regionKey(region)),
      );
      process.stdout.write(`added shard "${added.name}" (${added.url}) in region "${region ?? loadConfigFromEnvironment().region.defaultName}"; new projects of the region may be placed on it\n`);
    },
  }),
  command({
    path: ['analysis', 'backfill'],
    summary: 'queue the image analysis (appdata.trove_image_analysis, similar_to) of live images that have none, in batches of 500',
    options: [{ name: 'public-key', value: 'KEY', description: 'public key of the one project to backfill (default: every project)' }],
    run: async (options) => {
      const queued = await withAnalysisBackfill(loadConfigFromEnvironment(), options.value('public-key') ?? null, (analysis, projectId) =>
        analysis.backfill(projectId, (count) => process.stderr.write(`queued ${count}\n`)),
      );
      process.stdout.write(`queued the analysis of ${queued} image${queued === 1 ? '' : 's'}; the workers of running servers compute them\n`);
    },
  }),
  command({
    path: ['config', 'docs'],
    summary: 'print the environment variables as a Markdown table',
    options: [],
    // No configuration is loaded: the table documents it, so it must print even when it is invalid.
    run: async () => {
      process.stdout.write('| Variable | Default | Meaning |\n| --- | --- | --- |\n');
      for (const v of ENV_VARS) process.stdout.write(`| \`${v.name}\` | ${v.default} | ${v.description} |\n`);
    },
  }),
];

async function main(argv: string[]): Promise<void> {
  const invocation = parseCommandLine(COMMANDS, argv, ['serve']);
  if (invocation.kind === 'help') {
    process.stdout.write(formatHelp(COMMANDS, invocation.path));
    return;
  }
  await invocation.command.run(invocation.options);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else if (isAppError(error)) {
    process.stderr.write(`${error.message}\n`);
  } else if (error instanceof Error) {
    process.stderr.write(`trove: ${error.message}\n`);
  } else {
    process.stderr.write(`trove: ${String(error)}\n`);
  }
  process.exit(1);
});
