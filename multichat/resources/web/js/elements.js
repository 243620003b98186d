// Building DOM nodes from data. Text always goes in as textContent, never as HTML:
// nothing a user sends is ever parsed as markup.

/** An element with attributes (strings, or booleans for presence) and children
 * (nodes or strings, the latter as text). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** Remove every child of a node. */
export function clear(node) {
  node.replaceChildren();
}
