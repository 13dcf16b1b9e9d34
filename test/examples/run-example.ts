import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

/**
 * Runs an example script in --quick mode in a child process (as a user would, through tsx) and
 * returns its output folder and parsed summary.json.
 */
export async function runExample(script: string, extraArgs: string[] = []): Promise<{ out: string; summary: Record<string, unknown> }> {
  const out = mkdtempSync(join(tmpdir(), `medvae-${script}-`));
  // Asynchronous, so the test worker keeps answering vitest while the example trains.
  await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'examples', `${script}.ts`), '--quick', '--out', out, ...extraArgs], {
    cwd: root,
    encoding: 'utf8',
    timeout: 540_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { out, summary: JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown> };
}
