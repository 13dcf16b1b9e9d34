import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One ```ts block from a Markdown page or a TSDoc `@example`. */
export interface DocSnippet {
  /** Where it is: `file:line` of the opening fence, relative to the repository root. */
  where: string;
  /** The code, without TSDoc's leading ` * `. */
  code: string;
}

/**
 * The fence info strings that mark a block as not meant to compile: ```ts nocompile. Use it only
 * for code that cannot type-check on its own by nature (say, a fragment of a larger file), and say
 * why in the text around it.
 */
export const NOCOMPILE = /^```(?:ts|typescript)\s+nocompile\b/;

const FENCE_OPEN = /^```(?:ts|typescript)\b(.*)$/;

function walk(dir: string, keep: (f: string) => boolean, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, keep, out);
    else if (keep(p)) out.push(p);
  }
  return out;
}

/** The ```ts blocks of a text whose lines are given (after any comment prefix is removed). */
function blocks(lines: string[], file: string, root: string): DocSnippet[] {
  const found: DocSnippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i].trim());
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) body.push(lines[i]);
    if (NOCOMPILE.test(lines[start].trim())) continue;
    found.push({ where: `${relative(root, file)}:${start + 1}`, code: body.join('\n') });
  }
  return found;
}

/** Every ```ts block of README.md and docs/**\/*.md (docs/api, TypeDoc's output, excluded). */
export function markdownSnippets(root: string): DocSnippet[] {
  const files = [join(root, 'README.md'), ...walk(join(root, 'docs'), (f) => f.endsWith('.md') && !relative(root, f).startsWith(join('docs', 'api')))];
  return files.flatMap((f) => blocks(readFileSync(f, 'utf8').split('\n'), f, root));
}

/** Every ```ts block inside a TSDoc comment under src/ (the `@example` sections). */
export function tsdocSnippets(root: string): DocSnippet[] {
  const out: DocSnippet[] = [];
  for (const f of walk(join(root, 'src'), (p) => p.endsWith('.ts'))) {
    const text = readFileSync(f, 'utf8');
    if (!text.includes('```')) continue;
    const lines = text.split('\n');
    // Within /** ... */ comments only; strip the leading " * " so that indentation survives.
    const stripped = lines.map((l) => {
      const m = /^\s*\* ?(.*)$/.exec(l);
      return m ? m[1] : '';
    });
    let inDoc = false;
    const docLines = lines.map((l, i) => {
      if (/^\s*\/\*\*/.test(l)) inDoc = true;
      const keep = inDoc ? stripped[i] : '';
      if (l.includes('*/')) inDoc = false;
      return keep;
    });
    out.push(...blocks(docLines, f, root));
  }
  return out;
}
