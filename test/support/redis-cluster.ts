import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A local Redis Cluster of three masters and no replicas, in temp dirs, for tests. */
export interface LocalRedisCluster {
  /** `127.0.0.1:<port>` of each master, as `REDIS_CLUSTER_NODES` takes them. */
  nodes: string[];
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** Ports whose cluster bus port (port + 10000) is free too, from a random start. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  let port = 20_000 + Math.floor(Math.random() * 30_000);
  while (ports.length < count) {
    port += 1;
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) ports.push(port);
  }
  return ports;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Starts three `redis-server --cluster-enabled yes` on free ports, joins them with
 * `redis-cli --cluster create` and waits for `cluster_state:ok` on every node.
 */
export async function startRedisCluster(options: { binaryDir?: string } = {}): Promise<LocalRedisCluster> {
  const bin = (name: string) => (options.binaryDir ? join(options.binaryDir, name) : name);
  const ports = await freePorts(3);
  const dirs: string[] = [];
  const servers: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if (server.exitCode !== null || server.signalCode !== null) return resolve();
            server.once('exit', () => resolve());
            server.kill('SIGKILL');
          }),
      ),
    );
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  };
  try {
    for (const port of ports) {
      const dir = await mkdtemp(join(tmpdir(), `chorus-cluster-${port}-`));
      dirs.push(dir);
      const server = spawn(
        bin('redis-server'),
        [
          '--port',
          String(port),
          '--bind',
          HOST,
          '--dir',
          dir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, 'nodes.conf'),
          '--cluster-node-timeout',
          '5000',
          '--appendonly',
          'no',
          '--save',
          '',
          '--maxmemory-policy',
          'noeviction',
          '--logfile',
          join(dir, 'redis.log'),
        ],
        { stdio: 'ignore' },
      );
      servers.push(server);
    }
    for (const port of ports)
      await waitFor(`redis-server on ${port}`, async () =>
        (await run(bin('redis-cli'), ['-h', HOST, '-p', String(port), 'ping'])).includes('PONG'),
      );
    const nodes = ports.map((port) => `${HOST}:${port}`);
    await run(bin('redis-cli'), [
      '--cluster',
      'create',
      ...nodes,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of ports)
      await waitFor(`cluster_state:ok on ${port}`, async () =>
        (await run(bin('redis-cli'), ['-h', HOST, '-p', String(port), 'cluster', 'info'])).includes(
          'cluster_state:ok',
        ),
      );
    return { nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
