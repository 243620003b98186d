// Where a text names someone: `@name`, or the name as a whole word, in any case.
// The rule of multichat/protocol/mentions.py (the server marks activity frames
// `mention` with it), here to highlight the words in the messages shown:
// a run of name characters not preceded by one or by '@', with at most one '@'
// of its own; the whole run, or a part of it that ends before a '.' not
// followed by a letter or digit ("al." names al, "al.x" does not). The server
// reads the text in NFKC first; here each run is (the text shown stays as
// sent), so combining marks count as name characters: "ZOE" + U+0308 is a run.

const RUN = /(?<![\p{L}\p{M}\p{N}_.@-])@?([\p{L}\p{M}\p{N}_.-]+)/gu;

/** A name as the rule compares it: NFKC, case-folded (upper then lower case folds
 * "ß" to "ss" as Python's casefold does). */
export function nameForm(name) {
  return name.normalize("NFKC").toUpperCase().toLowerCase();
}

/** The [start, end) ranges of `text` that name `username`, '@' included. */
export function mentionRanges(text, username) {
  if (!username || !text) return [];
  const wanted = nameForm(username);
  const ranges = [];
  for (const match of text.matchAll(RUN)) {
    const run = match[1];
    const start = match.index;
    const runStart = start + match[0].length - run.length;
    const candidates = [run.length];
    for (let dot = run.indexOf(".", 1); dot > 0; dot = run.indexOf(".", dot + 1)) {
      const after = run.slice(dot + 1, dot + 2);
      if (!after || !/[\p{L}\p{N}_]/u.test(after)) candidates.push(dot);
    }
    const length = candidates.find((end) => nameForm(run.slice(0, end)) === wanted);
    if (length !== undefined) ranges.push([start, runStart + length]);
  }
  return ranges;
}
