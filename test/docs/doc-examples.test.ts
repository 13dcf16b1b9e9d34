import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// Every ```ts block of README.md, docs/**/*.md and the TSDoc `@example`s under src/ type-checks
// against medvae's public API (see check-doc-examples.ts for how an example is completed: imports
// from medvae, `tf`, and the values of doc-context.ts). The check runs in a child process: one
// TypeScript program over all examples, about 15 s of CPU.
const root = resolve(__dirname, '..', '..');

describe('documentation examples', () => {
  it('type-check against the public API (README, docs/, TSDoc @example)', async () => {
    const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [tsx, join(__dirname, 'check-doc-examples.ts')], { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 });
    const { count, problems } = JSON.parse(stdout) as { count: number; problems: string[] };
    // README, the guides and the TSDoc examples hold 80 blocks today; a broken extractor finds none.
    expect(count).toBeGreaterThan(50);
    expect(problems, problems.join('\n')).toEqual([]);
  }, 180_000);
});
