#!/usr/bin/env node
import { ROLES, type Role } from './config/config.js';
import { ENV_VARS, loadConfigFromEnvironment, type loadConfig } from './config/load-config.js';
import { parseArgs } from './cli/args.js';
import { formatProjects } from './cli/print.js';
import { serve } from './cli/serve.js';
import { KyselyMetadataStore } from './adapters/db/kysely-metadata-store.js';
import { ConfigError, isAppError } from './errors.js';
import { ProjectService } from './services/project.service.js';
import { parseBoolean, parseBytes } from './config/parse-values.js';

const USAGE = `Usage: trove <command>

  serve [--roles upload,api,delivery,worker]   run the server (default: every role)
  migrate                                      apply database migrations
  projects list [--show-secrets]               list projects and their keys
  projects create --name NAME [--public-key K] [--auto-store true|false]
                  [--signed-uploads true|false] [--max-file-size 100MiB] [--allowed-types image/*,application/pdf]
  projects update --public-key K [same options as create]
  keys create --public-key K                   add a secret key to a project (rotation)
  keys revoke --public-key K --id KEY_ID       revoke a secret key
  config docs                                  print the environment variables as a Markdown table
`;

function flag(args: ReturnType<typeof parseArgs>, name: string): string | undefined {
  const value = args.flags.get(name);
  return typeof value === 'string' ? value : undefined;
}

async function withProjects<T>(config: ReturnType<typeof loadConfig>, run: (service: ProjectService) => Promise<T>): Promise<T> {
  const store = new KyselyMetadataStore(config.database);
  try {
    await store.migrate();
    return await run(new ProjectService(store.projects));
  } finally {
    await store.close();
  }
}

function projectSettings(args: ReturnType<typeof parseArgs>) {
  const autoStore = flag(args, 'auto-store');
  const signed = flag(args, 'signed-uploads');
  const maxSize = flag(args, 'max-file-size');
  const types = flag(args, 'allowed-types');
  return {
    ...(autoStore !== undefined ? { autoStore: parseBoolean(autoStore) } : {}),
    ...(signed !== undefined ? { signedUploads: parseBoolean(signed) } : {}),
    ...(maxSize !== undefined ? { maxFileSize: maxSize === 'none' ? null : parseBytes(maxSize) } : {}),
    ...(types !== undefined ? { allowedMimeTypes: types === 'any' ? null : types.split(',').map((t) => t.trim()) } : {}),
  };
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const [command, sub] = args.positional;
  const rolesFlag = flag(args, 'roles');
  const roles = rolesFlag?.split(',').map((r) => r.trim()) as Role[] | undefined;
  if (roles?.some((r) => !(ROLES as readonly string[]).includes(r))) {
    throw new ConfigError([`--roles: expected a comma-separated list of ${ROLES.join(', ')}, got "${rolesFlag}"`]);
  }
  if (command === 'config' && sub === 'docs') {
    process.stdout.write('| Variable | Default | Meaning |\n| --- | --- | --- |\n');
    for (const v of ENV_VARS) process.stdout.write(`| \`${v.name}\` | ${v.default} | ${v.description} |\n`);
    return;
  }
  const config = loadConfigFromEnvironment(roles ? { roles } : {});
  switch (command) {
    case undefined:
    case 'serve':
      return serve(config);
    case 'migrate': {
      const store = new KyselyMetadataStore(config.database);
      try {
        const applied = await store.migrate();
        process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Database is up to date.\n');
      } finally {
        await store.close();
      }
      return;
    }
    case 'projects':
      if (sub === 'list') {
        const list = await withProjects(config, (s) => s.list());
        process.stdout.write(formatProjects(list, args.flags.has('show-secrets')));
        return;
      }
      if (sub === 'create') {
        const name = flag(args, 'name');
        if (!name) throw new ConfigError(['--name is required']);
        const publicKey = flag(args, 'public-key');
        const created = await withProjects(config, (s) =>
          s.create({ name, ...(publicKey ? { publicKey } : {}), ...projectSettings(args) }),
        );
        process.stdout.write(formatProjects([created], true));
        return;
      }
      if (sub === 'update') {
        const publicKey = flag(args, 'public-key');
        if (!publicKey) throw new ConfigError(['--public-key is required']);
        const name = flag(args, 'name');
        const list = await withProjects(config, async (s) => {
          await s.update(publicKey, { ...projectSettings(args), ...(name ? { name } : {}) });
          return s.list();
        });
        process.stdout.write(formatProjects(list.filter((p) => p.project.publicKey === publicKey), false));
        return;
      }
      break;
    case 'keys': {
      const publicKey = flag(args, 'public-key');
      if (!publicKey) throw new ConfigError(['--public-key is required']);
      if (sub === 'create') {
        const key = await withProjects(config, (s) => s.addSecret(publicKey));
        process.stdout.write(`secret key: ${key.secret} (id ${key.id})\n`);
        return;
      }
      if (sub === 'revoke') {
        const id = flag(args, 'id');
        if (!id) throw new ConfigError(['--id is required']);
        await withProjects(config, (s) => s.revokeSecret(publicKey, id));
        process.stdout.write(`revoked ${id}\n`);
        return;
      }
      break;
    }
    default:
      break;
  }
  process.stderr.write(USAGE);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((error: unknown) => {
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
