/**
 * Adapters build on the core through three modules only: the contract (src/adapter.ts), the errors
 * (src/errors.ts) and the kit (src/adapter-kit.ts). Reads every .ts file under adapters/ and checks
 * each import, static or dynamic, type-only or not: a node builtin, ioredis, another file under
 * adapters/, or one of those three. Anything else (src/_internal/..., src/identity.ts, a package)
 * fails, naming the file and the import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const adapters = join(root, 'adapters');
const ALLOWED_CORE = ['src/adapter.ts', 'src/errors.ts', 'src/adapter-kit.ts'];
/** The backends' own clients (optional peer dependencies), besides node: built-ins. */
const ALLOWED_PACKAGES = ['ioredis', 'pg', 'mysql2', 'mysql2/promise', 'etcd3'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module `source` (the text of `file`) imports or re-exports, `import()` included. */
function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((imported) => imported.fileName);
}

/** Why `specifier`, imported by `file`, is not allowed; null when it is. */
function refusal(file: string, specifier: string): string | null {
  if (specifier.startsWith('node:') || builtinModules.includes(specifier)) return null;
  if (ALLOWED_PACKAGES.includes(specifier)) return null;
  if (!specifier.startsWith('.')) return `a package other than ${ALLOWED_PACKAGES.join(', ')}`;
  const target = relative(root, resolve(dirname(file), specifier))
    .split(sep)
    .join('/')
    .replace(/\.js$/, '.ts');
  if (target.startsWith('adapters/') || ALLOWED_CORE.includes(target)) return null;
  return `${target}, outside adapters/ and not one of ${ALLOWED_CORE.join(', ')}`;
}

describe('the adapter kit', () => {
  it('is all every file under adapters/ imports from src/, besides the contract and the errors', () => {
    const files = tsFiles(adapters);
    const violations: string[] = [];
    const coreImports = new Set<string>();
    for (const file of files) {
      for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
        const why = refusal(file, specifier);
        if (why !== null) violations.push(`${relative(root, file)} imports '${specifier}': ${why}`);
        else if (specifier.includes('/src/')) coreImports.add(specifier.replace(/^(\.\.\/)+/, ''));
      }
    }
    expect(violations).toEqual([]);
    // Not a vacuous pass: the files were read, and they do import the core through the three modules.
    expect(files.length).toBeGreaterThan(30);
    expect([...coreImports].sort()).toEqual(['src/adapter-kit.js', 'src/adapter.js', 'src/errors.js']);
  });

  it('refuses an internal module, a package and a core module other than the three (the check itself)', () => {
    const file = join(adapters, 'redis', 'example.ts');
    const source = [
      "import { bounded } from '../../src/_internal/bounded.js';",
      "import type { HolderIdentity } from '../../src/identity.js';",
      "export { x } from 'left-pad';",
      "const later = import('../../src/elector.js');",
      "import { Redis } from 'ioredis';",
      "import { join } from 'node:path';",
      "import type { Lease } from '../../src/adapter.js';",
      "import { checksFor } from '../../src/adapter-kit.js';",
      "import { lockKeys } from './keys.js';",
    ].join('\n');
    const refused = importsOf(source).filter((specifier) => refusal(file, specifier) !== null);
    expect(refused).toEqual(['../../src/_internal/bounded.js', '../../src/identity.js', 'left-pad', '../../src/elector.js']);
  });
});
