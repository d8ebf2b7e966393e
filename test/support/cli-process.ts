import { spawn } from 'node:child_process';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node <args>` in a process of its own with `env`, to its end: its status and what it
 * printed. `input`, when given, is piped to its standard input.
 */
export function runNode(args: readonly string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliRun> {
  const child = spawn(process.execPath, [...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  // Without input, standard input is at its end at once, as from /dev/null.
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs `chorus` as a real process through its bin shim (workers/chorus.js), with only the given
 * configuration: variables of the test's own environment that the engine reads are left out.
 */
export function runChorus(
  args: readonly string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<CliRun> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(SMTP_URL|OUTBOX_DIR|JOURNEYS_DIR|TEMPLATES_DIR|MAIL_FROM|DKIM_|PUBLIC_URL)/.test(name),
    ),
  );
  return runNode(['workers/chorus.js', ...args], { ...inherited, ...env }, input);
}
