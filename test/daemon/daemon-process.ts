import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { REPO_ROOT } from '../helpers/paths';

/**
 * The real daemon as a child process that a test can signal or kill, with its JSON log
 * lines collected. Killed with SIGKILL after `timeoutMs` so a hung daemon cannot hang CI.
 */

export interface DaemonProcess {
  readonly child: ChildProcess;
  /** Parsed log lines so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves once the process exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Raw stderr so far (usage and configuration errors). */
  stderr(): string;
}

export function startDaemon(args: string[], options: { env?: NodeJS.ProcessEnv;
  timeoutMs?: number } = {}): DaemonProcess {
  const env = Object.fromEntries(Object.entries(process.env)
    .filter(([name]) => !name.startsWith('EDGE_POTHOLE_')));
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'edge-pothole.js'), 'run',
    ...args], { cwd: REPO_ROOT, env: { ...env, EDGE_POTHOLE_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  let pending = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  process.once('exit', () => child.kill('SIGKILL'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });

  return { child, logs, exited, stderr: () => stderr };
}

/** True once a log line with message `msg` (and the given fields) was written. */
export function logged(daemon: DaemonProcess, msg: string,
  fields: Record<string, unknown> = {}): boolean {
  return daemon.logs.some((line) => line.msg === msg &&
    Object.entries(fields).every(([key, value]) => line[key] === value));
}

/** Every message ever put in the outbox journal of `stateDir`, in seq order, by id. */
export async function journalIds(stateDir: string): Promise<string[]> {
  const text = await readFile(path.join(stateDir, 'outbox', 'journal.ndjson'), 'utf8');
  const ids: string[] = [];
  for (const line of text.split('\n')) {
    try {
      const parsed = JSON.parse(line) as { op: string; body: string };
      if (parsed.op !== 'put') continue;
      const body = JSON.parse(parsed.body) as { id?: string; event_id?: string };
      ids.push(body.id ?? `event:${body.event_id}`);
    } catch {
      // The torn last line of a killed process.
    }
  }

  return ids;
}
