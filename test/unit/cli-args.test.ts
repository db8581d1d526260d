import { describe, expect, it } from 'vitest';
import { closest, parseCommandLine, UsageError, type CommandSpec, type Invocation } from '../../src/cli/args.js';
import { formatHelp } from '../../src/cli/print.js';

const positiveSize = (raw: string) => {
  if (!/^\d+$/.test(raw)) throw new Error(`expected a number, got "${raw}"`);
};

const COMMANDS: readonly CommandSpec[] = [
  { path: ['serve'], summary: 'run the server', options: [{ name: 'roles', value: 'ROLES', description: 'roles' }] },
  { path: ['migrate'], summary: 'apply migrations', options: [] },
  { path: ['projects', 'list'], summary: 'list projects', options: [{ name: 'show-secrets', description: 'print secrets' }] },
  {
    path: ['projects', 'create'],
    summary: 'create a project',
    options: [
      { name: 'name', value: 'NAME', required: true, description: 'project name' },
      { name: 'public-key', value: 'KEY', description: 'public key' },
      { name: 'max-file-size', value: 'SIZE', description: 'largest file', validate: positiveSize },
    ],
  },
  { path: ['keys', 'revoke'], summary: 'revoke a key', options: [
    { name: 'public-key', value: 'KEY', required: true, description: 'project' },
    { name: 'id', value: 'ID', required: true, description: 'key id' },
  ] },
];

function parse(...argv: string[]): Invocation<CommandSpec> {
  return parseCommandLine(COMMANDS, argv, ['serve']);
}

function refusal(...argv: string[]): string {
  try {
    parse(...argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

function run(...argv: string[]) {
  const invocation = parse(...argv);
  if (invocation.kind !== 'run') throw new Error('expected a command to run');
  return invocation;
}

describe('command line parsing', () => {
  it('reads values written as "--opt value" and "--opt=value", and switches', () => {
    const create = run('projects', 'create', '--name', 'Site', '--public-key=pk_123', '--max-file-size', '100');
    expect(create.command.path).toEqual(['projects', 'create']);
    expect(create.options.value('name')).toBe('Site');
    expect(create.options.value('public-key')).toBe('pk_123');
    expect(create.options.required('max-file-size')).toBe('100');
    const list = run('projects', 'list', '--show-secrets');
    expect(list.options.has('show-secrets')).toBe(true);
    expect(run('projects', 'list').options.has('show-secrets')).toBe(false);
  });

  it('takes a value that starts with a single dash, and "=" inside a value', () => {
    expect(run('projects', 'create', '--name', '-dash').options.value('name')).toBe('-dash');
    expect(run('projects', 'create', '--name=a=b').options.value('name')).toBe('a=b');
  });

  it('runs the default command when no command is named', () => {
    expect(run().command.path).toEqual(['serve']);
    expect(run('--roles', 'api').options.value('roles')).toBe('api');
  });

  it('refuses an unknown option, naming it, suggesting the close one and listing the valid ones', () => {
    const message = refusal('projects', 'create', '--name', 'x', '--max-filesize', '1MB');
    expect(message.split('\n')).toEqual([
      'Unknown option --max-filesize for "trove projects create". Did you mean --max-file-size?',
      'Valid options: --name, --public-key, --max-file-size',
      'Run "trove projects create --help" for details.',
    ]);
  });

  it('does not suggest an option that is not close', () => {
    expect(refusal('projects', 'create', '--name', 'x', '--colour', 'red')).toMatch(/^Unknown option --colour for "trove projects create"\.\n/);
  });

  it('refuses single-dash options other than -h', () => {
    expect(refusal('migrate', '-v')).toContain('Unknown option -v for "trove migrate".\n"trove migrate" takes no options.');
  });

  it('refuses an option missing its value at the end or before another option', () => {
    expect(refusal('projects', 'create', '--name')).toMatch(/^Option --name for "trove projects create" needs a value: --name NAME\.\nValid options: --name, /);
    expect(refusal('projects', 'create', '--name', '--public-key', 'K')).toMatch(/^Option --name for "trove projects create" needs a value/);
    expect(refusal('projects', 'create', '--name=')).toMatch(/^Option --name for "trove projects create" needs a value/);
  });

  it('refuses a value given to a switch', () => {
    expect(refusal('projects', 'list', '--show-secrets=yes')).toMatch(/^Option --show-secrets for "trove projects list" is a switch and takes no value \(got "yes"\)\./);
    expect(refusal('projects', 'list', '--show-secrets', 'yes')).toMatch(
      /^Unexpected argument "yes" for "trove projects list" \(--show-secrets is a switch and takes no value\)\./,
    );
  });

  it('refuses stray words, repeated options and missing required options', () => {
    expect(refusal('migrate', 'now')).toMatch(/^Unexpected argument "now" for "trove migrate"\./);
    expect(refusal('projects', 'create', '--name', 'a', '--name', 'b')).toMatch(/^Option --name for "trove projects create" is given more than once\./);
    expect(refusal('keys', 'revoke')).toMatch(/^Missing required options --public-key KEY, --id ID for "trove keys revoke"\.\nValid options: --public-key, --id\n/);
  });

  it('refuses a value its option declares invalid, before anything runs', () => {
    expect(refusal('projects', 'create', '--name', 'x', '--max-file-size', 'big')).toMatch(
      /^Invalid value for --max-file-size of "trove projects create": expected a number, got "big"\./,
    );
  });

  it('refuses unknown commands and subcommands, and a group without its subcommand', () => {
    expect(refusal('projects', 'delete').split('\n')).toEqual([
      'Unknown subcommand "delete" for "trove projects".',
      'Valid subcommands: list, create',
      'Run "trove projects --help" for details.',
    ]);
    expect(refusal('projcts', 'list').split('\n')).toEqual([
      'Unknown command "projcts". Did you mean "projects"?',
      'Valid commands: serve, migrate, projects, keys, help',
      'Run "trove --help" for details.',
    ]);
    expect(refusal('projects')).toMatch(/^Missing subcommand for "trove projects"\.\nValid subcommands: list, create\n/);
    expect(refusal('help', 'nope')).toMatch(/^Unknown command "nope"\./);
  });

  it('answers --help, -h and "help" with the topic the words name, whatever else is on the line', () => {
    expect(parse('--help')).toEqual({ kind: 'help', path: [] });
    expect(parse('help')).toEqual({ kind: 'help', path: [] });
    expect(parse('projects', '--help')).toEqual({ kind: 'help', path: ['projects'] });
    expect(parse('help', 'projects', 'create')).toEqual({ kind: 'help', path: ['projects', 'create'] });
    expect(parse('projects', 'create', '--bogus', '-h')).toEqual({ kind: 'help', path: ['projects', 'create'] });
    expect(refusal('help', 'migrate', 'now')).toMatch(/^Unexpected argument "now" for "trove help"\./);
  });
});

describe('closest', () => {
  it('prefers the one name the input starts, then the nearest typo', () => {
    expect(closest('public', ['name', 'public-key'])).toBe('public-key');
    expect(closest('max-filesize', ['name', 'max-file-size'])).toBe('max-file-size');
    expect(closest('nmae', ['name', 'id'])).toBe('name');
    expect(closest('zzz', ['name', 'id'])).toBeUndefined();
  });
});

describe('help', () => {
  it('is generated from the declarations', () => {
    const help = formatHelp(COMMANDS, ['projects', 'create']);
    expect(help).toContain('Usage: trove projects create --name NAME [--public-key KEY] [--max-file-size SIZE]');
    expect(help).toMatch(/--name NAME +project name \(required\)/);
    expect(help).toMatch(/--max-file-size SIZE +largest file/);
    expect(formatHelp(COMMANDS, ['projects', 'list'])).toContain('Usage: trove projects list [--show-secrets]');
    const overview = formatHelp(COMMANDS, []);
    for (const line of ['serve', 'migrate', 'projects list', 'projects create', 'keys revoke', 'help [COMMAND]']) expect(overview).toContain(`  ${line} `);
    const group = formatHelp(COMMANDS, ['projects']);
    expect(group).toContain('projects create');
    expect(group).not.toContain('keys revoke');
  });
});
