/**
 * What every benchmark child shares: it runs `main`, and a failure is printed and ends it
 * with 1 (its parent sees the exit instead of the result line it waits for).
 */
export function runBenchChild(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

/** On SIGTERM (the parent's stopChild): stop Switchboard, then its database, then exit 0. */
export function stopOnSigterm(
  switchboard: { stop(graceMs?: number): Promise<void> },
  db: { close(): Promise<void> },
  graceMs?: number,
): void {
  process.on('SIGTERM', () => {
    void switchboard
      .stop(graceMs)
      .then(() => db.close())
      .then(() => process.exit(0));
  });
}
