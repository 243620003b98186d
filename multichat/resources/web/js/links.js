// Where a text has web links, by the app's rule (multichat/desktop/widgets/linkify.py):
// http:// or https://, or "www." at the start of a word (it opens as http://),
// running to white space, without the punctuation that usually ends a sentence
// (a closing parenthesis stays when the link opened one). No other scheme is
// ever a link: "javascript:" and "data:" stay text.

const LINK = /(?:https?:\/\/|(?<![\p{L}\p{N}_.@/-])www\.(?=[^\s<>"'.]+\.[\p{L}\p{N}_]))[^\s<>"']+/giu;
const TRAILING = ".,;:!?)]}'\"";

function trim(url) {
  let end = url.length;
  while (end > 0 && TRAILING.includes(url[end - 1])) {
    const kept = url.slice(0, end);
    if (url[end - 1] === ")" && count(kept, "(") >= count(kept, ")")) break;
    end -= 1;
  }
  return url.slice(0, end);
}

function count(text, char) {
  return text.split(char).length - 1;
}

/** Each link of `text`: {start, end, href} (end exclusive; href with its scheme). */
export function linkRanges(text) {
  const found = [];
  for (const match of text.matchAll(LINK)) {
    const url = trim(match[0]);
    if (!url) continue;
    found.push({ start: match.index, end: match.index + url.length,
                 href: url.includes("://") ? url : `http://${url}` });
  }
  return found;
}
