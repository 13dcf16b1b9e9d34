import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');

describe('README quickstart', () => {
  it('runs as written (with medvae resolved to this checkout)', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Quickstart'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code, 'README has a ```ts block under "## Quickstart"').toBeDefined();
    expect(code!.split('\n').filter((l) => l.trim()).length).toBeLessThanOrEqual(15);
    const dir = mkdtempSync(join(tmpdir(), 'medvae-quickstart-'));
    const script = join(dir, 'quickstart.mts'); // .mts: ESM, so top-level await works as in the README
    writeFileSync(script, code!.replace("from 'medvae'", `from '${join(root, 'src', 'index.ts')}'`).replace(/'runs\/quickstart-model'/, JSON.stringify(join(dir, 'model'))));
    const { stdout: out } = await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), script], { cwd: root, encoding: 'utf8', timeout: 400_000 });
    const dice = Number(/dice: ([0-9.]+)/.exec(out)?.[1]);
    expect(dice).toBeGreaterThan(0.5);
    expect(existsSync(join(dir, 'model', 'model.json'))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  }, 420_000);
});
