import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { markdownSnippets, tsdocSnippets, type DocSnippet } from './doc-snippets.js';

// The check behind test/docs/doc-examples.test.ts, run as its own process (one synchronous
// TypeScript program would block the test worker). Prints a JSON object: how many examples, and
// the problems found as `file:line: message`.
//
// Every ```ts block of README.md, docs/**/*.md and the TSDoc `@example`s under src/ must type-check
// against medvae's public API, as a user would paste it: `medvae` (and its subpaths) resolve to the
// sources, names the example uses without importing are imported from the root entry (TSDoc examples
// leave imports out), `tf` is @tensorflow/tfjs-core, and values the text assumes (a model, a batch)
// come from test/docs/doc-context.ts. One TypeScript program checks all of them.
const dir = resolve(fileURLToPath(new URL('.', import.meta.url)));
const root = resolve(dir, '..', '..');
const contextFile = join(dir, 'doc-context.ts');

const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  types: ['node'],
  strict: true,
  esModuleInterop: true,
  skipLibCheck: true,
  noEmit: true,
  baseUrl: root,
  paths: {
    medvae: ['src/index.ts'],
    'medvae/losses': ['src/losses/index.ts'],
    'medvae/metrics': ['src/metrics/index.ts'],
    'medvae/data': ['src/data/index.ts'],
    'medvae/models': ['src/entries/models.ts'],
    'medvae/backend': ['src/backend/index.ts'],
  },
};

/** Names an example defines at its top level (imports, variables, functions, classes). */
function declaredNames(code: string): Set<string> {
  const names = new Set<string>();
  const sf = ts.createSourceFile('x.ts', code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const bind = (n: ts.BindingName): void => {
    if (ts.isIdentifier(n)) names.add(n.text);
    else for (const e of n.elements) if (!ts.isOmittedExpression(e)) bind(e.name);
  };
  for (const s of sf.statements) {
    if (ts.isImportDeclaration(s) && s.importClause) {
      const c = s.importClause;
      if (c.name) names.add(c.name.text);
      if (c.namedBindings && ts.isNamespaceImport(c.namedBindings)) names.add(c.namedBindings.name.text);
      if (c.namedBindings && ts.isNamedImports(c.namedBindings)) for (const e of c.namedBindings.elements) names.add(e.name.text);
    } else if (ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) bind(d.name);
    } else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && s.name) {
      names.add(s.name.text);
    }
  }
  return names;
}

/** Exported names of a module file, read through a program's checker. */
function exportsOf(program: ts.Program, file: string): string[] {
  const sf = program.getSourceFile(file);
  const checker = program.getTypeChecker();
  const sym = sf && checker.getSymbolAtLocation(sf);
  if (!sym) throw new Error(`no module symbol for ${file}`);
  return checker.getExportsOfModule(sym).map((s) => s.name);
}

/** Type-checks every documentation example; returns the count and the problems found. */
export function checkDocExamples(): { count: number; problems: string[] } {
  const snippets: DocSnippet[] = [...markdownSnippets(root), ...tsdocSnippets(root)];

  const host = ts.createCompilerHost(options);
  const base = ts.createProgram([join(root, 'src', 'index.ts'), contextFile], options, host);
  const medvaeNames = exportsOf(base, join(root, 'src', 'index.ts'));
  const contextNames = exportsOf(base, contextFile);

  const files = new Map<string, { text: string; snippet: DocSnippet; preludeLines: number }>();
  snippets.forEach((snippet, i) => {
    const own = declaredNames(snippet.code);
    const context = contextNames.filter((n) => !own.has(n));
    const fromRoot = medvaeNames.filter((n) => !own.has(n) && !context.includes(n));
    const prelude = [
      own.has('tf') ? '' : "import * as tf from '@tensorflow/tfjs-core';",
      `import { ${fromRoot.join(', ')} } from 'medvae';`,
      context.length ? `import { ${context.join(', ')} } from './doc-context.js';` : '',
      'export {};',
    ];
    files.set(join(dir, `__snippet_${i}.ts`), { text: `${prelude.join('\n')}\n${snippet.code}\n`, snippet, preludeLines: prelude.length });
  });

  const virtualHost: ts.CompilerHost = {
    ...host,
    fileExists: (f) => files.has(f) || host.fileExists(f),
    readFile: (f) => files.get(f)?.text ?? host.readFile(f),
    getSourceFile: (f, lang, onError, create) => {
      const v = files.get(f);
      return v ? ts.createSourceFile(f, v.text, lang, true) : host.getSourceFile(f, lang, onError, create);
    },
  };
  const program = ts.createProgram([...files.keys()], options, virtualHost, base);

  const problems: string[] = [];
  for (const [file, { snippet, preludeLines }] of files) {
    const sf = program.getSourceFile(file)!;
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      // Unused imports from the prelude are the prelude's business, not the example's.
      const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line - preludeLines;
      const [file0, fence] = snippet.where.split(':');
      problems.push(`${file0}:${Number(fence) + 1 + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
  }
  return { count: snippets.length, problems };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(checkDocExamples()));
}
