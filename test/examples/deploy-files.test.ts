/**
 * The Docker Compose and Kubernetes examples are documented, not executed (no Docker engine or
 * cluster here). These checks keep them from rotting silently: every file they name exists, every
 * environment variable they set is one the server they run reads, and their ports, probes, volume
 * and Service names agree with each other. No YAML parser is installed, so the files are read with
 * line patterns that match the way they are written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const composeDir = join(root, 'examples/docker-compose');
const kubeDir = join(root, 'examples/kubernetes');
const read = (path: string) => readFileSync(path, 'utf8');

/** The names a source file reads as `process.env.NAME`. */
const envReadBy = (source: string) => new Set([...source.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string));

/** The one `.ts` file in an exec-form command such as `["node", "--import", "tsx", "examples/x/server.ts"]`. */
function scriptOf(execForm: string): string {
  const parts = JSON.parse(execForm) as string[];
  const scripts = parts.filter((part) => part.endsWith('.ts'));
  expect(scripts, `one .ts script in ${execForm}`).toHaveLength(1);
  return scripts[0] as string;
}

describe('examples/docker-compose', () => {
  const dockerfile = read(join(composeDir, 'Dockerfile'));
  const compose = read(join(composeDir, 'docker-compose.yml'));
  const context = resolve(composeDir, /^\s+context:\s*(\S+)$/m.exec(compose)?.[1] ?? '<none>');
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1] ?? '[]';
  const server = scriptOf(cmd);
  const environment = new Map([...compose.matchAll(/^\s{6}([A-Z][A-Z0-9_]*):\s*"?([^"\n]*)"?$/gm)].map((m) => [m[1], m[2]]));

  it('builds from the repository root with this Dockerfile, copying sources that exist', () => {
    expect(context).toBe(root);
    const dockerfilePath = /^\s+dockerfile:\s*(\S+)$/m.exec(compose)?.[1] ?? '<none>';
    expect(resolve(context, dockerfilePath)).toBe(join(composeDir, 'Dockerfile'));
    const copies = [...dockerfile.matchAll(/^COPY\s+(.+)$/gm)].map((m) => (m[1] as string).split(/\s+/).filter((t) => !t.startsWith('--')));
    expect(copies.length).toBeGreaterThan(0);
    for (const parts of copies) {
      for (const source of parts.slice(0, -1)) expect(existsSync(join(context, source)), `COPY source ${source}`).toBe(true);
    }
    // The CMD's script is inside what the image copies.
    expect(existsSync(join(context, server)), `CMD target ${server}`).toBe(true);
    expect(copies.some((parts) => parts.slice(0, -1).some((source) => server.startsWith(`${source}/`)))).toBe(true);
  });

  it('sets only environment variables the server reads, with the lock directory on the shared volume', () => {
    const source = read(join(root, server));
    const reads = envReadBy(source);
    expect([...environment.keys()].length).toBeGreaterThan(0);
    for (const name of environment.keys()) expect(reads, `${server} reads ${name}, set in docker-compose.yml`).toContain(name);
    // The volume is mounted where LOCK_DIR points, declared at the top level, and the image owns it.
    const mount = /^\s+- (\w+):(\/\S+)$/m.exec(compose);
    expect(mount?.[2]).toBe(environment.get('LOCK_DIR'));
    expect(compose).toMatch(new RegExp(`^volumes:\\n(?:\\s*#.*\\n)*\\s+${mount?.[1]}:`, 'm'));
    expect(dockerfile).toContain(`mkdir ${environment.get('LOCK_DIR')}`);
    expect(compose).toMatch(/^\s+replicas: 4$/m);
    // The port the replicas publish is the one the server listens on, and /healthz exists.
    expect(compose).toMatch(new RegExp(`:${environment.get('PORT')}"\\s*$`, 'm'));
    expect(compose).toContain(`127.0.0.1:${environment.get('PORT')}/healthz`);
    expect(source).toContain("'/healthz'");
  });
});

describe('examples/kubernetes', () => {
  const deployment = read(join(kubeDir, 'deployment.yaml'));
  const redis = read(join(kubeDir, 'redis.yaml'));
  const command = /^\s+command:\s*(\[.*\])\s*$/m.exec(deployment)?.[1] ?? '[]';
  const server = scriptOf(command);
  const envNames = [...deployment.matchAll(/^\s+- name: ([A-Z][A-Z0-9_]*)$/gm)].map((m) => m[1] as string);
  const value = (name: string) => new RegExp(`- name: ${name}\\n\\s+value: "?([^"\\n]+)"?`).exec(deployment)?.[1];

  it('runs a server file that exists and that the shared Dockerfile copies', () => {
    expect(existsSync(join(root, server)), `command target ${server}`).toBe(true);
    expect(read(join(composeDir, 'Dockerfile'))).toMatch(/^COPY examples \.\/examples$/m);
    const image = /^\s+image:\s*(\S+)$/m.exec(deployment)?.[1];
    expect(read(join(composeDir, 'docker-compose.yml'))).toContain(`image: ${image}`);
  });

  it('sets only environment variables the server reads, the identity from the pod name', () => {
    const reads = envReadBy(read(join(root, server)));
    expect(envNames.length).toBeGreaterThan(0);
    for (const name of envNames) expect(reads, `${server} reads ${name}, set in deployment.yaml`).toContain(name);
    expect(deployment).toMatch(/- name: POD_NAME\n\s+valueFrom:\n\s+fieldRef:\n\s+fieldPath: metadata\.name/);
  });

  it('probes a route the server serves on the port it listens on, and points REDIS_URL at the Service', () => {
    const source = read(join(root, server));
    expect(deployment).toMatch(/readinessProbe:\n\s+httpGet:\n\s+path: \/healthz/);
    expect(source).toContain("'/healthz'");
    expect(deployment).toMatch(new RegExp(`containerPort: ${value('PORT')}$`, 'm'));
    expect(value('HOST')).toBe('0.0.0.0');
    expect(deployment).toMatch(/terminationGracePeriodSeconds: \d+/);
    const url = new URL(value('REDIS_URL') ?? '');
    const service = redis.split(/^---$/m).find((doc) => /^kind: Service$/m.test(doc)) ?? '';
    expect(service).toMatch(new RegExp(`^metadata:\\n\\s+name: ${url.hostname}$`, 'm'));
    expect(service).toMatch(new RegExp(`^\\s+port: ${url.port}$`, 'm'));
  });
});

describe('the deployment READMEs', () => {
  it('say plainly that the files are not executed here', () => {
    for (const dir of [composeDir, kubeDir]) expect(read(join(dir, 'README.md'))).toMatch(/\*\*Not executed here\.\*\*/);
  });
});
