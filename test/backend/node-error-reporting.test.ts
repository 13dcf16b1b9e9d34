// After useBackend('wasm') in Node, an app's uncaught errors are reported by Node itself: with
// their own message and stack, not re-thrown from inside tfjs-backend-wasm's Emscripten glue
// (whose process handlers used to print a RangeError as `undefined`). Each case runs in a child
// process, since an uncaught error ends the process.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'test', 'backend', 'fixtures', 'crash-after-wasm.ts');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runChild(how: 'range' | 'range-top' | 'reject', setup: 'medvae' | 'stock'): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), script, how, setup], { cwd: root, timeout: 120_000, env: { ...process.env, MEDVAE_NATIVE: '0' } },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }));
  });
}

describe("Node's error reporting after useBackend('wasm')", () => {
  it('the glue installs its handlers (a set-up through tfjs alone still shows them, and loses the message)', async () => {
    const stock = await runChild('range-top', 'stock');
    expect(stock.stdout).toContain('handlers uncaughtException=1 unhandledRejection=1');
    expect(stock.stderr).not.toContain('Maximum call stack size exceeded');
  }, 130_000);

  const glueFile = /tfjs?-backend-wasm(\.node)?\.js/;
  for (const [how, where] of [['range-top', 'at the top level of the app'], ['range', 'in a timer']] as const) {
    it(`an uncaught RangeError ${where} prints its own message and a stack that starts in the app's code`, async () => {
      const out = await runChild(how, 'medvae');
      expect(out.stdout).toContain('handlers uncaughtException=0 unhandledRejection=0');
      expect(out.code).toBe(1);
      expect(out.stderr).toContain('RangeError: Maximum call stack size exceeded');
      expect(out.stderr).not.toMatch(/^undefined$/m);
      const firstFrame = out.stderr.split('\n').find((l) => /^\s+at /.test(l)) ?? '';
      expect(firstFrame).toContain('appFrameRangeError');
      expect(firstFrame).toContain('crash-after-wasm.ts');
      expect(out.stderr).not.toMatch(glueFile);
    }, 130_000);
  }

  it('an unhandled rejection prints its own message and stack', async () => {
    const out = await runChild('reject', 'medvae');
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('TypeError: app rejection 42');
    expect(out.stderr).toContain('crash-after-wasm.ts');
    expect(out.stderr).not.toMatch(glueFile);
  }, 130_000);
});
