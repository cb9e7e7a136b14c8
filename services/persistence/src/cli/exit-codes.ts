/**
 * What `t4dm-wal` exits with. 0/1/2 grade the data directory (verify); the
 * rest follow sysexits.h so scripts can tell a bad call from a bad disk.
 */
export const ExitCode = {
  clean: 0,
  /** The newest segment ends in a torn tail that recovery would cut off. */
  tornTail: 1,
  /** Recovery would refuse to start, or a checkpoint file fails verification. */
  corrupt: 2,
  usage: 64,
  /** The data directory, or a file in it, is missing or unreadable. */
  noInput: 66,
  internal: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
