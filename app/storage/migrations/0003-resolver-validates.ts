/**
 * Whether the account's resolver validates DNSSEC (issue 3: "AD is trusted only from a resolver
 * the user marked as validating, or one on loopback"). Off by default: a remote resolver's AD bit
 * says nothing unless the person knows that resolver validates and the path to it is trusted.
 */
import type { Migration } from './migration.ts';

export const resolverValidates: Migration = {
  version: 3,
  name: 'resolver-validates',
  up(db) {
    db.exec(
      `ALTER TABLE accounts ADD COLUMN resolver_validates INTEGER NOT NULL DEFAULT 0 CHECK (resolver_validates IN (0, 1));`,
    );
  },
};
