// A job that stops inside its run until released: for tests of what happens while a run is live.
import type { JobDefinition } from '../../src/jobs/contract.js';

export interface GatedJob {
  /** The job: runs like `job` once released; the runner holds the job's lock while it waits. */
  job: JobDefinition;
  /** Resolves when the run has entered the job (its job_run row and locks exist). */
  inside: Promise<void>;
  release(): void;
}

export function gatedJob(job: JobDefinition): GatedJob {
  let entered!: () => void;
  let release!: () => void;
  const inside = new Promise<void>((r) => {
    entered = r;
  });
  const gate = new Promise<void>((r) => {
    release = r;
  });
  return {
    job: {
      ...job,
      run: async (db, ctx) => {
        entered();
        await gate;
        return job.run(db, ctx);
      },
    },
    inside,
    release,
  };
}
