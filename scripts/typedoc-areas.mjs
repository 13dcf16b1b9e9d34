// TypeDoc plugin (typedoc.json "plugin"): files every export of the API reference under the area
// of the source file that declares it (src/<area>/… → category "<area>"), so the reference is
// grouped as the README's area table and the package's subpaths are (losses, metrics, data,
// models, backend, …) while every name stays a child of the one `medvae` entry point, where
// TypeDoc resolves {@link Name} across areas. An explicit @category in a comment wins.
import ts from 'typescript';
import { Comment, CommentTag, Converter } from 'typedoc';

/** The `src/<area>/` directory a declaration's file lies in, or undefined. */
function areaOf(symbol) {
  const file = symbol?.declarations?.[0]?.getSourceFile().fileName ?? '';
  return /\/src\/([^/]+)\//.exec(file.replaceAll('\\', '/'))?.[1];
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  // Before TypeDoc's CategoryPlugin (which reads @category at RESOLVE_END, priority -200).
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    for (const reflection of context.project.children ?? []) {
      let symbol = context.getSymbolFromReflection(reflection);
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = context.checker.getAliasedSymbol(symbol);
      const area = areaOf(symbol);
      if (area === undefined) continue;
      const comments = [reflection.comment, ...(reflection.signatures ?? []).map((s) => s.comment)].filter(Boolean);
      if (comments.some((c) => c.getTag('@category'))) continue;
      reflection.comment ??= new Comment();
      reflection.comment.blockTags.push(new CommentTag('@category', [{ kind: 'text', text: area }]));
    }
  }, 100);
}
