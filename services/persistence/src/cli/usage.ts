export const USAGE = `Usage: t4dm-wal <command> <dataDir> [options]
       t4dm-wal checkpoint <file>

Offline, read-only inspection of a T4DM data directory (<dataDir>/wal and
<dataDir>/checkpoints). Run it while the sidecar is stopped: a live WAL may
show a tail that is still being written.

Commands:
  verify <dataDir>       check every segment, record payload and checkpoint file,
                         and say what recovery would do
  segments <dataDir>     table of segment files, plus temp and .broken files
  records <dataDir>      one line per record in LSN order, up to the first
                         invalid frame
    --from LSN           start at this LSN
    --to LSN             stop after this LSN
    --limit N            print at most N records
    --json               one JSON object per line (the stop reason goes to stderr)
  checkpoints <dataDir>  checkpoint files, their header fields, whether they verify,
                         and whether a CHECKPOINT_COMPLETE in the WAL commits them
  checkpoint <file>      verify one checkpoint file (either layout) anywhere, e.g. in
                         a backup: header, SHA-256, then gunzip; a file named
                         checkpoint_<LSN>.bin.gz must hold that LSN

Options:
  -h, --help             show this text

Exit status:
  0   clean (verify); done (other commands)
  1   verify: the newest segment ends in a torn tail that recovery would cut off
  2   checkpoint: the file does not verify
      verify: corrupt: recovery would refuse to start, a checkpoint file fails
      verification, the WAL does not reach back to the newest valid committed
      checkpoint, or a record's payload does not decode or does not match its
      op type
  64  usage error
  66  the data directory, or a file in it, is missing or unreadable
  70  internal error`;
