/**
 * A deliberately naive topic matcher for tests: recursion over word lists, trying every split for '#'.
 * Exponential in the number of '#'s, which is fine for the short patterns the property tests generate.
 */
export function topicWords(key: string): string[] {
  return key === "" ? [] : key.split(".");
}

export function referenceTopicMatch(pattern: string, routingKey: string): boolean {
  return wordsMatch(topicWords(pattern), 0, topicWords(routingKey), 0);
}

function wordsMatch(pattern: string[], p: number, key: string[], k: number): boolean {
  if (p === pattern.length) return k === key.length;
  const word = pattern[p];
  if (word === "#") {
    for (let skip = k; skip <= key.length; skip++) {
      if (wordsMatch(pattern, p + 1, key, skip)) return true;
    }
    return false;
  }
  if (k === key.length) return false;
  if (word === "*" || word === key[k]) return wordsMatch(pattern, p + 1, key, k + 1);
  return false;
}
