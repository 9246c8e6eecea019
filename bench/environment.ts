/** What a reader needs to compare these figures with theirs: machine, OS, runtime, package versions. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, type as osType, release, totalmem } from 'node:os';

export interface Environment {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  primacy: string;
  properLockfile: string;
  tsx: string;
}

const require = createRequire(import.meta.url);

function versionOf(packageJsonPath: string): string {
  return (JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { version: string }).version;
}

function distribution(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? '';
  } catch {
    return '';
  }
}

export function describeEnvironment(): Environment {
  const list = cpus();
  return {
    date: new Date().toISOString(),
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: totalmem() / 2 ** 30,
    os: [distribution(), `${osType()} ${release()}`].filter(Boolean).join(', '),
    node: process.version,
    primacy: versionOf(new URL('../package.json', import.meta.url).pathname),
    properLockfile: versionOf(require.resolve('proper-lockfile/package.json')),
    tsx: versionOf(require.resolve('tsx/package.json')),
  };
}
