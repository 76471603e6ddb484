/**
 * `quiver connect --send-file FILE --to JID` (issue 12, "`quiver connect` for long runs") enqueues
 * a file's lines once per database: a rerun after a kill must find the job and enqueue nothing.
 * One row per job (the file's SHA-256, the recipient, the sending account) and one row per message
 * of it, in the file's order, so the run can tell when every one is stored by the server.
 */
import type { Migration } from './migration.ts';

export const cliJobs: Migration = {
  version: 11,
  name: 'cli-jobs',
  up(db) {
    db.exec(`
      CREATE TABLE cli_send_jobs (
        id INTEGER PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        -- The recipient's bare JID in stored form (normalizeBareJid), as messages.peer.
        peer TEXT NOT NULL,
        -- SHA-256 of the file's bytes, lowercase hex: the same file to the same JID is one job.
        file_sha256 TEXT NOT NULL CHECK (length(file_sha256) = 64 AND file_sha256 NOT GLOB '*[^0-9a-f]*'),
        count INTEGER NOT NULL CHECK (count >= 0),
        created_at INTEGER NOT NULL,
        UNIQUE (account_id, peer, file_sha256)
      ) STRICT;
      CREATE TABLE cli_send_job_messages (
        job_id INTEGER NOT NULL REFERENCES cli_send_jobs(id) ON DELETE CASCADE,
        -- 0-based position of the message's line among the file's non-blank lines.
        seq INTEGER NOT NULL CHECK (seq >= 0),
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        PRIMARY KEY (job_id, seq)
      ) STRICT;
      -- The cascade from a deleted message finds its job row without a scan.
      CREATE INDEX cli_send_job_messages_by_message ON cli_send_job_messages (message_id);
    `);
  },
};
