// Item banks drawn like the synthetic platform's (its own generator: topics, a ~ 1.2·logN(0, 0.3²)
// clamped to [0.35, 3], b around topic difficulties), as the adaptive engine's input.
import type { CatItem } from '../../../src/cat/index.js';
import { streamPlatform } from '../../../src/synthetic/platform.js';

export function platformBank(items: number, seed: number, model: '2PL' | '3PL' = '2PL'): CatItem[] {
  const p = streamPlatform({
    seed,
    learners: 0,
    weeks: 1,
    items,
    model,
    start: new Date('2026-01-05T00:00:00Z'),
  });
  return p.items.map((it) => ({
    itemId: it.item_id,
    topicId: it.topic_id,
    params: p.itemTruth.get(it.item_id)!,
  }));
}
