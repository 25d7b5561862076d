import { createHash } from 'node:crypto';

import {
  chainPage,
  countUnsealedEvents,
  firstChainSeq,
  insertChainLinks,
  lastChainLink,
  latestCheckpoint,
  tryLockSealer,
  unsealedEvents,
  type ChainableEvent,
  type ChainLink,
  type Kysely,
  type Schema,
} from '@tollgate/db';

/** The link before the first event: 64 zero hex digits. */
export const GENESIS_HASH = '0'.repeat(64);

const SEAL_BATCH = 1000;
const VERIFY_PAGE = 1000;

/** JSON with object keys sorted at every depth, so equal content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }

  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

    const members = entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`);

    return `{${members.join(',')}}`;
  }

  return JSON.stringify(value);
}

/** hash = SHA-256(previous hash, newline, canonical event), hex. */
export function linkHash(prevHash: string, event: ChainableEvent): string {
  const content = canonicalJson([
    event.id,
    event.kind,
    event.at_utc,
    event.agent_id,
    event.client_id,
    event.token_id,
    event.session_id,
    event.subject,
    event.actor,
    event.request_id,
    event.ip,
    event.data,
  ]);

  return createHash('sha256').update(`${prevHash}\n${content}`).digest('hex');
}

/**
 * Appends committed events to the hash chain, in batches, on one instance at a time (an
 * advisory lock; the others skip). Writers never wait for this: the chain follows the ledger
 * a moment behind, so it is no throughput ceiling. Returns how many events were sealed.
 */
export async function sealLedger(db: Kysely<Schema>, maxBatches = 10): Promise<number> {
  let sealed = 0;

  for (let batch = 0; batch < maxBatches; batch += 1) {
    const count = await db.transaction().execute(async (trx) => {
      if (!(await tryLockSealer(trx))) {
        return 0;
      }

      return sealBatch(trx);
    });

    sealed += count;

    if (count < SEAL_BATCH) {
      break;
    }
  }

  return sealed;
}

async function sealBatch(trx: Kysely<Schema>): Promise<number> {
  const last = await lastChainLink(trx);
  const checkpoint = last === undefined ? await latestCheckpoint(trx) : undefined;
  let prevHash = last?.hash ?? checkpoint?.hash ?? GENESIS_HASH;
  let seq = BigInt(last?.seq ?? checkpoint?.seq ?? '0');
  const links: ChainLink[] = [];

  for (const event of await unsealedEvents(trx, SEAL_BATCH)) {
    seq += 1n;
    const hash = linkHash(prevHash, event);
    links.push({ seq: seq.toString(), event_id: event.id, prev_hash: prevHash, hash });
    prevHash = hash;
  }

  await insertChainLinks(trx, links);

  return links.length;
}

export type ChainProblem = 'event_missing' | 'event_altered' | 'link_broken' | 'sequence_gap';

export interface ChainVerification {
  ok: boolean;
  /** Links checked, from the genesis or the latest archive checkpoint. */
  checked: number;
  /** Events in the ledger not yet sealed into the chain (the sealer runs every few seconds). */
  unsealed: number;
  started_from: { seq: string; hash: string };
  first_broken?: { seq: string; event_id: string; problem: ChainProblem };
}

/**
 * Walks the chain in order and recomputes every link: a changed event, a removed one and a
 * re-ordered pair each break it, and the first break is reported.
 */
export async function verifyLedger(db: Kysely<Schema>): Promise<ChainVerification> {
  const start = await verificationStart(db);
  let expectedPrev = start.hash;
  let expectedSeq = BigInt(start.seq) + 1n;
  let checked = 0;

  for (let page = await chainPage(db, start.seq, VERIFY_PAGE); page.length > 0;) {
    for (const link of page) {
      const problem = linkProblem(link, expectedPrev, expectedSeq);

      if (problem !== undefined) {
        return {
          ok: false,
          checked,
          unsealed: await countUnsealedEvents(db),
          started_from: start,
          first_broken: { seq: link.seq, event_id: link.event_id, problem },
        };
      }

      checked += 1;
      expectedPrev = link.hash;
      expectedSeq += 1n;
    }

    page = await chainPage(db, page.at(-1)?.seq ?? start.seq, VERIFY_PAGE);
  }

  return { ok: true, checked, unsealed: await countUnsealedEvents(db), started_from: start };
}

/**
 * Where verification starts: the genesis while the chain still holds its first link, else the
 * latest archive checkpoint. A checkpoint cannot make verification skip links that are still
 * there, so inserting a forged one hides nothing.
 */
async function verificationStart(db: Kysely<Schema>): Promise<{ seq: string; hash: string }> {
  const genesis = { seq: '0', hash: GENESIS_HASH };

  if ((await firstChainSeq(db)) === '1') {
    return genesis;
  }

  const checkpoint = await latestCheckpoint(db);

  return checkpoint === undefined ? genesis : { seq: checkpoint.seq, hash: checkpoint.hash };
}

function linkProblem(
  link: ChainLink & { event: ChainableEvent | null },
  expectedPrev: string,
  expectedSeq: bigint,
): ChainProblem | undefined {
  if (BigInt(link.seq) !== expectedSeq) return 'sequence_gap';
  if (link.prev_hash !== expectedPrev) return 'link_broken';
  if (link.event === null) return 'event_missing';
  if (link.event.id !== link.event_id || linkHash(link.prev_hash, link.event) !== link.hash) {
    return 'event_altered';
  }

  return undefined;
}
