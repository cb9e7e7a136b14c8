/** A byte sequence that is not a valid frame; `offset` is where it starts. */
export class WalFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "WalFormatError";
  }
}
