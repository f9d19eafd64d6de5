// "1 learner", "2 learners": counts in English text (CLI summaries, the English report).
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
