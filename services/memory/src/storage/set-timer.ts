/** A cancellable timer; injectable so tests fire it themselves. */
export type SetTimer = (run: () => void, ms: number) => { cancel(): void };

/** Node's timer, unref'd: a pending linger or wait never keeps the process alive. */
export const nodeTimer: SetTimer = (run, ms) => {
  const timer = setTimeout(run, ms);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
};
