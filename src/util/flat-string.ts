// V8 keeps a string built by concatenation (a PromQL query, a message) as a
// tree of its parts, about three times the bytes of the text. A string kept
// for long (a round's results, held until the release's next round) is worth
// copying once into one piece; the parser always makes a flat string.

export function flatString(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}
