/**
 * Strict argv reading against a declaration. Each command lists its options once; anything the
 * declaration does not allow (an unknown option, a missing value, a value given to a switch, a
 * stray word, an unknown subcommand) is refused before the command runs, because a silently
 * ignored typo in `projects update` looks exactly like a successful change.
 */

export interface OptionSpec<N extends string = string> {
  /** Without the leading `--`. */
  readonly name: N;
  /** Placeholder shown in help (`--name NAME`). Present when the option takes a value; absent for a switch. */
  readonly value?: string;
  readonly required?: boolean;
  readonly description: string;
  /** Throws a message saying what is wrong. Runs while parsing, so a bad value stops the command before it changes anything. */
  readonly validate?: (raw: string) => unknown;
}

export interface CommandSpec<N extends string = string> {
  /** The words that select the command: `['projects', 'create']`. */
  readonly path: readonly string[];
  readonly summary: string;
  readonly options: readonly OptionSpec<N>[];
  /** Required words after the command's own (`trove shards add NAME URL`), read in order before any option. */
  readonly positionals?: readonly { readonly name: N; readonly description: string }[];
}

/** A command line that does not match the declaration. Its message is ready to print. */
export class UsageError extends Error {
  constructor(lines: string[]) {
    super(lines.join('\n'));
    this.name = 'UsageError';
  }
}

export class ParsedOptions<N extends string = string> {
  constructor(private readonly values: ReadonlyMap<string, string | true>) {}

  has(name: N): boolean {
    return this.values.has(name);
  }

  value(name: N): string | undefined {
    const value = this.values.get(name);
    return typeof value === 'string' ? value : undefined;
  }

  /** For options declared required: the parser has already refused a command line without them. */
  required(name: N): string {
    const value = this.value(name);
    if (value === undefined) throw new Error(`--${name} was declared required but not checked`);
    return value;
  }
}

/** A help `path` names a command, a group of subcommands (`['projects']`) or, when empty, all of them. */
export type Invocation<C extends CommandSpec> =
  | { readonly kind: 'run'; readonly command: C; readonly options: ParsedOptions }
  | { readonly kind: 'help'; readonly path: readonly string[] };

export const HELP_COMMAND = 'help';

export function commandTitle(path: readonly string[]): string {
  return ['trove', ...path].join(' ');
}

/**
 * `defaultPath` runs when argv names no command (`trove`, `trove --roles api`). `trove help [words]`,
 * `--help` and `-h` ask for help on whatever the words before them name.
 */
export function parseCommandLine<C extends CommandSpec>(
  commands: readonly C[],
  argv: readonly string[],
  defaultPath: readonly string[],
): Invocation<C> {
  const words = leadingWords(argv);
  if (words[0] === HELP_COMMAND) {
    const topic = resolve(commands, words.slice(1));
    const extra = argv.slice(1 + topic.consumed).find((token) => !isHelpFlag(token));
    if (extra !== undefined) throw new UsageError([`Unexpected argument "${extra}" for "trove help".`, `Run "trove help" for the list of commands.`]);
    return { kind: 'help', path: topic.path };
  }
  const wantsHelp = argv.some(isHelpFlag);
  const topic = resolve(commands, words.length > 0 || wantsHelp ? words : defaultPath);
  if (wantsHelp) return { kind: 'help', path: topic.path };
  if (!topic.command) {
    throw new UsageError([
      `Missing subcommand for "${commandTitle(topic.path)}".`,
      `Valid subcommands: ${nextWords(commands, topic.path).join(', ')}`,
      `Run "${commandTitle(topic.path)} --help" for details.`,
    ]);
  }
  const rest = words.length > 0 ? argv.slice(topic.consumed) : argv;
  return { kind: 'run', command: topic.command, options: parseOptions(topic.command, rest) };
}

function isHelpFlag(token: string): boolean {
  return token === '--help' || token === '-h';
}

function leadingWords(argv: readonly string[]): string[] {
  const end = argv.findIndex((token) => token.startsWith('-'));
  return [...(end === -1 ? argv : argv.slice(0, end))];
}

interface Topic<C> {
  path: string[];
  command?: C;
  consumed: number;
}

/** Walks the words down the command tree until they name a command, run out, or go astray. */
function resolve<C extends CommandSpec>(commands: readonly C[], words: readonly string[]): Topic<C> {
  let candidates = commands;
  for (let depth = 0; ; depth++) {
    const path = words.slice(0, depth);
    const command = candidates.find((c) => c.path.length === depth);
    if (command) return { path, command, consumed: depth };
    const word = words[depth];
    if (word === undefined) return { path, consumed: depth };
    const next = candidates.filter((c) => c.path[depth] === word);
    if (next.length === 0) throw unknownWord(commands, path, word);
    candidates = next;
  }
}

function nextWords(commands: readonly CommandSpec[], path: readonly string[]): string[] {
  const words = commands
    .filter((c) => path.every((word, i) => c.path[i] === word))
    .map((c) => c.path[path.length])
    .filter((word): word is string => word !== undefined);
  return [...new Set(words)];
}

function unknownWord(commands: readonly CommandSpec[], path: readonly string[], word: string): UsageError {
  const valid = path.length === 0 ? [...nextWords(commands, path), HELP_COMMAND] : nextWords(commands, path);
  const kind = path.length === 0 ? 'command' : 'subcommand';
  const guess = closest(word, valid);
  const owner = path.length === 0 ? '' : ` for "${commandTitle(path)}"`;
  return new UsageError([
    `Unknown ${kind} "${word}"${owner}.${guess ? ` Did you mean "${guess}"?` : ''}`,
    `Valid ${kind}s: ${valid.join(', ')}`,
    `Run "${commandTitle(path)} --help" for details.`,
  ]);
}

/** Reads the tokens after the command words; every problem names the option and lists the valid ones. */
function parseOptions(command: CommandSpec, tokens: readonly string[]): ParsedOptions {
  const specs = new Map(command.options.map((o) => [o.name, o]));
  const values = new Map<string, string | true>();
  const title = commandTitle(command.path);
  const fail = (problem: string) => optionError(command, problem);
  const positionals = command.positionals ?? [];
  let start = 0;
  for (const positional of positionals) {
    const token = tokens[start];
    if (token === undefined || token.startsWith('-')) {
      throw fail(`Missing ${positional.name.toUpperCase()} for "${title}": ${commandTitle(command.path)} ${positionals.map((p) => p.name.toUpperCase()).join(' ')}.`);
    }
    values.set(positional.name, token);
    start += 1;
  }
  for (let i = start; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.startsWith('-')) {
      const previous = specs.get(tokens[i - 1]?.slice(2) ?? '');
      const hint = previous && previous.value === undefined ? ` (--${previous.name} is a switch and takes no value)` : '';
      throw fail(`Unexpected argument "${token}" for "${title}"${hint}.`);
    }
    const eq = token.indexOf('=');
    const written = eq === -1 ? token : token.slice(0, eq);
    const spec = written.startsWith('--') ? specs.get(written.slice(2)) : undefined;
    if (!spec) {
      const guess = closest(written.replace(/^-+/, ''), [...specs.keys()]);
      throw fail(`Unknown option ${written} for "${title}".${guess ? ` Did you mean --${guess}?` : ''}`);
    }
    if (values.has(spec.name)) throw fail(`Option --${spec.name} for "${title}" is given more than once.`);
    if (spec.value === undefined) {
      if (eq !== -1) throw fail(`Option --${spec.name} for "${title}" is a switch and takes no value (got "${token.slice(eq + 1)}").`);
      values.set(spec.name, true);
      continue;
    }
    let raw: string | undefined;
    if (eq !== -1) {
      raw = token.slice(eq + 1);
    } else if (tokens[i + 1] !== undefined && !tokens[i + 1]!.startsWith('--')) {
      raw = tokens[++i];
    }
    if (raw === undefined || raw === '') throw fail(`Option --${spec.name} for "${title}" needs a value: --${spec.name} ${spec.value}.`);
    if (spec.validate) {
      try {
        spec.validate(raw);
      } catch (error) {
        throw fail(`Invalid value for --${spec.name} of "${title}": ${error instanceof Error ? error.message : String(error)}.`);
      }
    }
    values.set(spec.name, raw);
  }
  const missing = command.options.filter((o) => o.required && !values.has(o.name));
  if (missing.length > 0) {
    throw fail(`Missing required option${missing.length > 1 ? 's' : ''} ${missing.map((o) => `--${o.name} ${o.value ?? ''}`.trim()).join(', ')} for "${title}".`);
  }
  return new ParsedOptions(values);
}

function optionError(command: CommandSpec, problem: string): UsageError {
  const title = commandTitle(command.path);
  const valid = command.options.length > 0 ? `Valid options: ${command.options.map((o) => `--${o.name}`).join(', ')}` : `"${title}" takes no options.`;
  return new UsageError([problem, valid, `Run "${title} --help" for details.`]);
}

/**
 * The likeliest intended name: one the input is a prefix of, or else the nearest by edit distance
 * when it is near enough to be a typo rather than a different word.
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  if (input.length === 0) return undefined;
  const prefixed = candidates.filter((c) => c.startsWith(input));
  if (prefixed.length === 1) return prefixed[0];
  const limit = Math.max(1, Math.floor(input.length / 4));
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(input, name);
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Edits (insert, delete, substitute, swap neighbours) from a to b: a swap is the commonest typo. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
