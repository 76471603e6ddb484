/** Every migration, in order. Append only; `migrate` checks that versions are 1, 2, 3, … */
import type { Migration } from './migration.ts';
import { initial } from './0001-initial.ts';
import { pinsAndPosh } from './0002-pins-and-posh.ts';
import { resolverValidates } from './0003-resolver-validates.ts';
import { poshCacheAnchors } from './0004-posh-cache-anchors.ts';
import { dropConnectionMigrations } from './0005-drop-connection-migrations.ts';
import { dedupeByUniqueIds } from './0006-dedupe-by-unique-ids.ts';
import { quicConnectionFacts } from './0007-quic-connection-facts.ts';
import { transportMemory } from './0008-transport-memory.ts';
import { quicTickets } from './0009-quic-tickets.ts';
import { outboxStates } from './0010-outbox-states.ts';
import { cliJobs } from './0011-cli-jobs.ts';
import { conversations } from './0012-conversations.ts';
import { contacts } from './0013-contacts.ts';
import { conversationByUs } from './0014-conversation-by-us.ts';
import { searchPrefixes } from './0015-search-prefixes.ts';
import { archiveHistoryAt } from './0016-archive-history-at.ts';

export const migrations: readonly Migration[] = [
  initial,
  pinsAndPosh,
  resolverValidates,
  poshCacheAnchors,
  dropConnectionMigrations,
  dedupeByUniqueIds,
  quicConnectionFacts,
  transportMemory,
  quicTickets,
  outboxStates,
  cliJobs,
  conversations,
  contacts,
  conversationByUs,
  searchPrefixes,
  archiveHistoryAt,
];
