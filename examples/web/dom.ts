// DOM lookup shared by the demo's modules.

/** The page element with `id`, typed by the caller; a missing one means index.html and the code disagree. */
export function el<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`The page lacks #${id}.`);
  return found as T;
}
