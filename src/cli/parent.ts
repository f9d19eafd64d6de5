// Under npm (`npx seedtest …`, `npm start`) this process is the child of `sh -c`, and dash (Debian's
// sh) does not pass on the SIGTERM or SIGINT npm forwards to it: the shell dies and this process
// would go on as an orphan, holding its port and data directory. So a parent that goes away counts
// as a SIGTERM, and each command's own handling of it applies (serve shuts down gracefully, a job
// run stops between units of work).
const POLL_MS = 500;

export function terminateWithParent(): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    // process.ppid asks the OS each time: an orphan has been re-parented to init or a subreaper.
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, POLL_MS);
  timer.unref();
}
