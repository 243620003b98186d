// Words as search sees them (multichat/protocol/words.py): a run of letters,
// digits and marks; compared without accents (NFKD, nonspacing marks dropped)
// or case. Close enough to the server's rule to mark what a search matched.

const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const NONSPACING = /\p{Mn}/gu;
const LONGEST = 100;

/** A word without accents or case: "Résumé" -> "resume", "Straße" -> "strasse". */
export function fold(word) {
  return word.normalize("NFKD").replace(NONSPACING, "").toLowerCase().replaceAll("ß", "ss")
    .slice(0, LONGEST);
}

/** The folded words of a query, each once. */
export function queryWords(query) {
  return [...new Set([...query.matchAll(WORD)].map((match) => fold(match[0])))]
    .filter(Boolean);
}

/** [start, end) of each word of `text` that begins with one of the query's words. */
export function matchRanges(text, query) {
  const wanted = queryWords(query);
  if (wanted.length === 0) return [];
  const ranges = [];
  for (const match of text.matchAll(WORD)) {
    const folded = fold(match[0]);
    if (wanted.some((word) => folded.startsWith(word))) {
      ranges.push([match.index, match.index + match[0].length]);
    }
  }
  return ranges;
}
