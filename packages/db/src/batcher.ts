import { DatabaseUnavailableError, translateDatabaseError } from './errors.js';

export interface BatcherOptions {
  /** Batches whose statement may run at once (each holds one pooled connection). */
  maxInFlight: number;
  /** Items one statement carries at most. */
  maxBatch: number;
}

interface Pending<Item, Outcome> {
  item: Item;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs the items of concurrent callers through one statement: for writes, group commit (each
 * caller waits until its item has committed, but concurrent items share one statement, one
 * round trip and one commit); for reads, one round trip for many lookups.
 *
 * While fewer than `maxInFlight` batches run, an item is sent at once (at low load, alone and
 * without delay); otherwise it waits, and the items that gathered meanwhile go together as soon
 * as a batch finishes. `run` gets a batch in queue order and returns one outcome per item.
 */
export class Batcher<Item, Outcome> {
  readonly #queue: Pending<Item, Outcome>[] = [];
  #inFlight = 0;

  constructor(
    private readonly run: (items: readonly Item[]) => Promise<Outcome[]>,
    private readonly options: BatcherOptions,
  ) {
    if (!isPositiveInteger(options.maxInFlight) || !isPositiveInteger(options.maxBatch)) {
      throw new RangeError('maxInFlight and maxBatch must be positive integers');
    }
  }

  /** Queues the item; settles with its outcome once its batch has run (committed), or failed. */
  submit(item: Item): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#sendQueued();
    });
  }

  #sendQueued(): void {
    while (this.#inFlight < this.options.maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.options.maxBatch);
      this.#inFlight += 1;

      void this.#runBatch(batch).finally(() => {
        this.#inFlight -= 1;
        this.#sendQueued();
      });
    }
  }

  /** Settles every item of the batch; never throws. */
  async #runBatch(batch: Pending<Item, Outcome>[]): Promise<void> {
    try {
      const outcomes = await this.run(batch.map((pending) => pending.item));

      batch.forEach((pending, index) => pending.resolve(outcomes[index] as Outcome));
    } catch (raw) {
      const error = translateDatabaseError(raw);

      if (batch.length === 1 || error instanceof DatabaseUnavailableError) {
        batch.forEach((pending) => pending.reject(error));
        return;
      }

      // One item's data (a value Postgres refuses, a duplicate) fails the whole statement.
      // Halving the batch until the failing items stand alone gives each item its own outcome
      // in a few statements, so one bad request does not hold the others up for long. The
      // halves go in queue order, so the first of two conflicting items still comes first.
      const half = Math.ceil(batch.length / 2);
      await this.#runBatch(batch.slice(0, half));
      await this.#runBatch(batch.slice(half));
    }
  }
}

function isPositiveInteger(value: number): boolean {
  return Number.isInteger(value) && value > 0;
}
