import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

/**
 * Runs an example script in --quick mode in a child process (as a user would, through tsx) and
 * returns its output folder and parsed summary.json.
 */
export function runExample(script: string, extraArgs: string[] = []): { out: string; summary: Record<string, unknown> } {
  const out = mkdtempSync(join(tmpdir(), `medvae-${script}-`));
  execFileSync(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'examples', `${script}.ts`), '--quick', '--out', out, ...extraArgs], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 540_000,
  });
  return { out, summary: JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown> };
}
