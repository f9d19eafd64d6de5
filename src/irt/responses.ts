// Sparse response data compressed by person (CSR, what the E-step walks), built from (person, item,
// 0/1) triples after the data checks of spec/irt.md.

import { InvalidInputError } from '../user-error.js';

/** One observed response; `correct` must be exactly 0 or 1. */
export interface ResponseTriple {
  userId: string;
  itemId: string;
  correct: number;
}

/** Responses as parallel arrays of indices into `personIds` / `itemIds` (input order = time order). */
export interface IndexedResponses {
  personIds: readonly string[];
  itemIds: readonly string[];
  person: Int32Array;
  item: Int32Array;
  correct: ArrayLike<number>;
}

export interface DataCheckOptions {
  /** Items with fewer responses are excluded; default 20. */
  minItemResponses?: number;
  /** Apply the item checks (count, constant responses); default true. Scoring turns them off. */
  checkItems?: boolean;
  /**
   * The caller hands the input's arrays over: when nothing is reordered, dropped or excluded (input
   * in person order, no duplicate, every item and person kept) the result uses `item` and a
   * Uint8Array `correct` as its by-person arrays instead of copying them. Default false.
   */
  adoptInput?: boolean;
}

export type ItemExclusionReason = 'too-few-responses' | 'all-correct' | 'all-incorrect';

export interface ExcludedItem {
  itemId: string;
  reason: ItemExclusionReason;
  /** Responses the item had (after duplicate removal). */
  n: number;
}

export interface ExcludedPerson {
  personId: string;
  /** 'no-responses': none in the input; 'no-remaining-responses': all on excluded items. */
  reason: 'no-responses' | 'no-remaining-responses';
}

/** Checked sparse responses. Indices refer to the kept persons and items only. */
export interface ResponseData {
  personIds: string[];
  itemIds: string[];
  nPersons: number;
  nItems: number;
  nObs: number;
  /** CSR by person: responses of person i are at [personPtr[i], personPtr[i+1]). */
  personPtr: Int32Array;
  personItem: Int32Array;
  personValue: Uint8Array;
  /** Responses to item j. */
  itemN: Int32Array;
  excludedItems: ExcludedItem[];
  excludedPersons: ExcludedPerson[];
  /** Responses dropped because a later response of the same person to the same item exists. */
  duplicatesDropped: number;
}

/** A response that is not 0/1 or refers to an unknown index; `index` is its position in the input. */
export class InvalidResponseError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidResponseError';
  }
}

/** Builds checked sparse data from triples; person and item ids are indexed by first appearance. */
export function fromTriples(triples: readonly ResponseTriple[], opts: DataCheckOptions = {}): ResponseData {
  const personIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  const n = triples.length;
  const person = new Int32Array(n);
  const item = new Int32Array(n);
  const correct = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const { userId, itemId } = triples[t];
    person[t] = indexOf(personIndex, userId);
    item[t] = indexOf(itemIndex, itemId);
    correct[t] = triples[t].correct;
  }
  return fromIndexed(
    { personIds: [...personIndex.keys()], itemIds: [...itemIndex.keys()], person, item, correct },
    opts,
  );
}

/** The index of `id`, allocating the next one on first appearance. */
function indexOf(index: Map<string, number>, id: string): number {
  let k = index.get(id);
  if (k === undefined) {
    k = index.size;
    index.set(id, k);
  }
  return k;
}

/**
 * Builds checked sparse data from a dense persons × items matrix; null or undefined = missing.
 * Ids default to "1", "2", … for persons and "Item.1", … for items.
 */
export function fromMatrix(
  rows: readonly (readonly (number | null | undefined)[])[],
  opts: DataCheckOptions & { personIds?: readonly string[]; itemIds?: readonly string[] } = {},
): ResponseData {
  const nItems = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const personIds = opts.personIds ?? rows.map((_, i) => String(i + 1));
  const itemIds = opts.itemIds ?? Array.from({ length: nItems }, (_, j) => `Item.${j + 1}`);
  const person: number[] = [];
  const item: number[] = [];
  const correct: number[] = [];
  rows.forEach((row, i) => {
    row.forEach((x, j) => {
      if (x === null || x === undefined) return;
      person.push(i);
      item.push(j);
      correct.push(x);
    });
  });
  return fromIndexed(
    { personIds, itemIds, person: Int32Array.from(person), item: Int32Array.from(item), correct },
    opts,
  );
}

/**
 * Builds checked sparse data from indexed responses. Checks, in order: every value is exactly 0 or 1
 * and every index in range (else InvalidResponseError); duplicates (person, item) keep the latest
 * response; items with fewer than `minItemResponses` responses or constant responses are excluded;
 * persons left without responses are excluded. Kept persons and items keep their relative order.
 */
export function fromIndexed(input: IndexedResponses, opts: DataCheckOptions = {}): ResponseData {
  const minItem = opts.minItemResponses ?? 20;
  const checkItems = opts.checkItems ?? true;
  const { person, item, correct } = input;
  const nP = input.personIds.length;
  const nJ = input.itemIds.length;
  const n = person.length;
  if (item.length !== n || correct.length !== n)
    throw new InvalidInputError('person, item and correct differ in length');
  const perPerson = new Int32Array(nP + 1);
  let sorted = true;
  for (let t = 0; t < n; t++) {
    const x = correct[t];
    if (x !== 0 && x !== 1)
      throw new InvalidResponseError(t, `response ${t + 1}: correct must be 0 or 1, got ${x}`);
    if (!(person[t] >= 0 && person[t] < nP))
      throw new InvalidResponseError(t, `response ${t + 1}: unknown person`);
    if (!(item[t] >= 0 && item[t] < nJ)) throw new InvalidResponseError(t, `response ${t + 1}: unknown item`);
    perPerson[person[t] + 1]++;
    if (t > 0 && person[t] < person[t - 1]) sorted = false;
  }
  for (let i = 0; i < nP; i++) perPerson[i + 1] += perPerson[i];
  // Stable counting sort by person: within a person, input (time) order is kept. Input already in
  // person order (as exported files are) is its own sort: no permutation (16 bytes a response less
  // to write and read back for 4 M responses).
  const order = sorted ? null : new Int32Array(n);
  if (order) {
    const fill = perPerson.slice(0, nP);
    for (let t = 0; t < n; t++) order[fill[person[t]]++] = t;
  }

  // Duplicates: walk each person's responses backwards; the first occurrence seen is the latest.
  const stamp = new Int32Array(nJ).fill(-1);
  // 1 for an earlier answer that a later one replaces; allocated at the first (most data have none).
  let dropped: Uint8Array | null = null;
  const itemN = new Int32Array(nJ);
  const itemSum = new Int32Array(nJ);
  let duplicatesDropped = 0;
  for (let i = 0; i < nP; i++) {
    for (let q = perPerson[i + 1] - 1; q >= perPerson[i]; q--) {
      const t = order ? order[q] : q;
      const j = item[t];
      if (stamp[j] === i) {
        duplicatesDropped++;
        dropped ??= new Uint8Array(n);
        dropped[q] = 1;
        continue;
      }
      stamp[j] = i;
      itemN[j]++;
      itemSum[j] += correct[t];
    }
  }

  const excludedItems: ExcludedItem[] = [];
  const itemMap = new Int32Array(nJ).fill(-1);
  const itemIds: string[] = [];
  const keptN: number[] = [];
  for (let j = 0; j < nJ; j++) {
    const reason: ItemExclusionReason | null = !checkItems
      ? null
      : itemN[j] < minItem
        ? 'too-few-responses'
        : itemSum[j] === itemN[j]
          ? 'all-correct'
          : itemSum[j] === 0
            ? 'all-incorrect'
            : null;
    if (reason) excludedItems.push({ itemId: input.itemIds[j], reason, n: itemN[j] });
    else {
      itemMap[j] = itemIds.length;
      itemIds.push(input.itemIds[j]);
      keptN.push(itemN[j]);
    }
  }

  const excludedPersons: ExcludedPerson[] = [];
  const personIds: string[] = [];
  const ptr: number[] = [0];
  let nObs = 0;
  // Nothing dropped or excluded (the common case): a person keeps all of her responses, uncounted.
  const keepsAll = dropped === null && excludedItems.length === 0;
  for (let i = 0; i < nP; i++) {
    let ni = perPerson[i + 1] - perPerson[i];
    if (!keepsAll) {
      ni = 0;
      for (let q = perPerson[i]; q < perPerson[i + 1]; q++)
        if (!dropped?.[q] && itemMap[item[order ? order[q] : q]] >= 0) ni++;
    }
    if (ni === 0) {
      const had = perPerson[i + 1] > perPerson[i];
      excludedPersons.push({
        personId: input.personIds[i],
        reason: had ? 'no-remaining-responses' : 'no-responses',
      });
      continue;
    }
    personIds.push(input.personIds[i]);
    nObs += ni;
    ptr.push(nObs);
  }
  const personPtr = Int32Array.from(ptr);
  // Nothing reordered, dropped or excluded: the input already is the by-person data.
  const adopt =
    opts.adoptInput === true &&
    !order &&
    nObs === n &&
    itemIds.length === nJ &&
    correct instanceof Uint8Array;
  const personItem = adopt ? item : new Int32Array(nObs);
  const personValue = adopt ? (correct as Uint8Array) : new Uint8Array(nObs);
  let o = 0;
  for (let i = 0; i < nP && !adopt; i++) {
    for (let q = perPerson[i]; q < perPerson[i + 1]; q++) {
      const t = order ? order[q] : q;
      if (dropped?.[q] || itemMap[item[t]] < 0) continue;
      personItem[o] = itemMap[item[t]];
      personValue[o++] = correct[t];
    }
  }
  return {
    personIds,
    itemIds,
    nPersons: personIds.length,
    nItems: itemIds.length,
    nObs,
    personPtr,
    personItem,
    personValue,
    itemN: Int32Array.from(keptN),
    excludedItems,
    excludedPersons,
    duplicatesDropped,
  };
}
