import { createHash } from 'node:crypto';

import {
  archiveChainPrefix,
  chainPage,
  latestCheckpoint,
  type Kysely,
  type Schema,
} from '@tollgate/db';

import { linkHash, sealLedger } from './ledger-chain.js';

const PAGE = 1000;

export interface ArchiveResult {
  archived: number;
  from_seq: string | null;
  to_seq: string | null;
  end_hash: string | null;
  digest: string | null;
}

/**
 * Moves sealed events older than `before` out of the database: each is written (with its chain
 * link) as one JSON line through `write`, and only then are the rows removed and a checkpoint
 * recorded, in one transaction (after `flush`, which should put the lines on disk). The remaining
 * chain verifies from the checkpoint; the archive verifies on its own from its first link's
 * prev_hash.
 */
export async function archiveLedger(
  db: Kysely<Schema>,
  before: Date,
  write: (line: string) => Promise<void>,
  flush: () => Promise<void> = async () => {},
): Promise<ArchiveResult> {
  await sealLedger(db, 1000);

  return db.transaction().execute(async (trx) => {
    const checkpoint = await latestCheckpoint(trx);
    const digest = createHash('sha256');
    let afterSeq = checkpoint?.seq ?? '0';
    let first: string | null = null;
    let last: { seq: string; hash: string } | null = null;
    let archived = 0;

    for (let done = false; !done;) {
      const page = await chainPage(trx, afterSeq, PAGE);
      const prefix = takeWhileBefore(page, before);

      for (const link of prefix) {
        const line = JSON.stringify(link);
        digest.update(`${line}\n`);
        await write(line);
        first ??= link.seq;
        last = { seq: link.seq, hash: link.hash };
        archived += 1;
      }

      done = prefix.length < page.length || page.length < PAGE;
      afterSeq = last?.seq ?? afterSeq;
    }

    if (last === null) {
      return { archived: 0, from_seq: null, to_seq: null, end_hash: null, digest: null };
    }

    // The archive must be durable before the rows it holds are deleted.
    await flush();
    const archiveDigest = digest.digest('hex');
    await archiveChainPrefix(trx, {
      seq: last.seq,
      hash: last.hash,
      archivedEvents: archived,
      archiveDigest,
    });

    return {
      archived,
      from_seq: first,
      to_seq: last.seq,
      end_hash: last.hash,
      digest: archiveDigest,
    };
  });
}

type Page = Awaited<ReturnType<typeof chainPage>>;

/** The leading links whose events happened before the cut-off (the chain prefix to archive). */
function takeWhileBefore(page: Page, before: Date): Page {
  const cut = page.findIndex(
    (link) => link.event === null || new Date(link.event.at_utc).getTime() >= before.getTime(),
  );

  return cut === -1 ? page : page.slice(0, cut);
}

/** Checks an archive's lines on their own: each link follows the previous one and its event. */
export function verifyArchiveLines(lines: string[]): {
  ok: boolean;
  checked: number;
  broken_at?: string;
} {
  let prev: string | undefined;
  let checked = 0;

  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;

    const link = readLink(line);

    if (link === undefined) {
      return { ok: false, checked, broken_at: `line ${index + 1}` };
    }

    const startsChain = prev === undefined;
    const linked = startsChain || link.prev_hash === prev;
    const intact = link.event !== null && linkHash(link.prev_hash, link.event) === link.hash;

    if (!linked || !intact) {
      return { ok: false, checked, broken_at: link.seq };
    }

    prev = link.hash;
    checked += 1;
  }

  return { ok: true, checked };
}

/** One archive line as a chain link, or undefined when it is not one (a damaged file). */
function readLink(line: string): Page[number] | undefined {
  let value: unknown;

  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }

  if (typeof value !== 'object' || value === null) return undefined;

  const link = value as Partial<Page[number]>;
  const texts = [link.seq, link.event_id, link.prev_hash, link.hash];

  if (!texts.every((text) => typeof text === 'string') || typeof link.event !== 'object') {
    return undefined;
  }

  return link as Page[number];
}
