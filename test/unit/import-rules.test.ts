/**
 * The layering of src/, checked on the import specifiers the code really has (type-only imports and
 * re-exports included): routes see services, services and the domain see ports at most, and adapters
 * are built by the wiring alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Import {
  /** The importing file, relative to the repository, with forward slashes. */
  from: string;
  /** As written in the source. */
  specifier: string;
  /** Relative specifiers resolved to a repository path (without extension); packages as they are. */
  target: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string, text: string): Import[] {
  const from = path.relative(ROOT, file).split(path.sep).join('/');
  // Static imports, re-exports and dynamic import() calls, comments and strings ignored.
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName: specifier }) => ({
    from,
    specifier,
    target: specifier.startsWith('.') ? path.posix.join(path.posix.dirname(from), specifier).replace(/\.(js|ts)$/, '') : specifier,
  }));
}

const within = (target: string, ...dirs: string[]): boolean => dirs.some((dir) => target === dir || target.startsWith(`${dir}/`));
const isFastify = (target: string): boolean => target === 'fastify' || target.startsWith('fastify/') || target.startsWith('@fastify/');

interface Rule {
  name: string;
  /** True when `entry` breaks the rule. */
  breaks(entry: Import): boolean;
}

const RULES: Rule[] = [
  {
    name: 'nothing under src/http imports src/adapters or src/ports',
    breaks: (i) => within(i.from, 'src/http') && within(i.target, 'src/adapters', 'src/ports'),
  },
  {
    name: 'nothing under src/services, src/domain or src/ports imports src/adapters or Fastify',
    breaks: (i) => within(i.from, 'src/services', 'src/domain', 'src/ports') && (within(i.target, 'src/adapters') || isFastify(i.target)),
  },
  {
    name: 'only src/wiring and src/context.ts import src/adapters',
    breaks: (i) => within(i.target, 'src/adapters') && !within(i.from, 'src/adapters', 'src/wiring') && i.from !== 'src/context.ts',
  },
  {
    name: 'src/domain imports nothing from src/services, src/http, src/adapters or src/ports',
    breaks: (i) => within(i.from, 'src/domain') && within(i.target, 'src/services', 'src/http', 'src/adapters', 'src/ports'),
  },
  {
    name: 'src/lib (generic helpers) imports nothing from src/ but src/errors.ts and other helpers',
    breaks: (i) => within(i.from, 'src/lib') && within(i.target, 'src') && !within(i.target, 'src/lib') && i.target !== 'src/errors',
  },
];

function violations(rule: Rule, imports: Import[]): string[] {
  return imports.filter((i) => rule.breaks(i)).map((i) => `${i.from} imports '${i.specifier}'`);
}

const IMPORTS = sourceFiles(path.join(ROOT, 'src')).flatMap((file) => importsOf(file, readFileSync(file, 'utf8')));

describe('import rules of src/', () => {
  it('reads the real imports of every source file', () => {
    expect(IMPORTS.filter((i) => i.from === 'src/context.ts').map((i) => i.target)).toContain('src/wiring/storage');
    expect(IMPORTS.filter((i) => i.from === 'src/http/delivery/range.ts').map((i) => i.target)).toContain('src/domain/byte-range');
  });

  it('flags each kind of breach', () => {
    const sample = [
      ...importsOf(path.join(ROOT, 'src/http/routes/x.ts'), "import type { A } from '../../ports/a.js';\nimport { B } from '../../adapters/b.js';"),
      ...importsOf(path.join(ROOT, 'src/services/x.service.ts'), "import type { FastifyInstance } from 'fastify';\nexport { C } from '../adapters/c.js';"),
      ...importsOf(path.join(ROOT, 'src/domain/x.ts'), "const d = await import('../services/d.js');"),
      ...importsOf(path.join(ROOT, 'src/main.ts'), "import { E } from './adapters/e.js';"),
      ...importsOf(path.join(ROOT, 'src/lib/x.ts'), "import { F } from '../services/f.js';\nimport { G } from '../errors.js';\nimport { H } from './h.js';"),
    ];
    expect(RULES.map((rule) => violations(rule, sample).length)).toEqual([2, 2, 3, 1, 1]);
  });

  for (const rule of RULES) {
    it(rule.name, () => {
      expect(violations(rule, IMPORTS)).toEqual([]);
    });
  }
});
