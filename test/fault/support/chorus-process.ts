import { spawn, type ChildProcess } from 'node:child_process';

/** A running TypeScript entry point (through tsx), with the tail of its log kept for failures. */
export interface ChorusProcess {
  child: ChildProcess;
  /** The last lines it wrote (stdout and stderr). */
  log(): string;
  /** Resolves when it has exited, with its code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` unless it has exited already. */
  kill(signal: NodeJS.Signals): void;
}

const KEEP_LOG_CHARS = 20_000;

/** Starts `workers/worker.ts` or `workers/api.ts` with `env` on top of this process's. */
export function startChorusProcess(entry: 'worker' | 'api', env: Record<string, string>): ChorusProcess {
  return startTsxProcess(`workers/${entry}.ts`, [], { LOG_LEVEL: 'warn', ...env });
}

/** Starts `script` (TypeScript, run through tsx) with `args`, and `env` on top of this process's. */
export function startTsxProcess(script: string, args: string[], env: Record<string, string>): ChorusProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-KEEP_LOG_CHARS);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    log: () => log,
    exited,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Polls `url` until it answers 200, or fails naming the process's last log lines. */
export async function waitForHttp(url: string, proc: ChorusProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (proc.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${url} did not answer within ${timeoutMs} ms. Process log:\n${proc.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
