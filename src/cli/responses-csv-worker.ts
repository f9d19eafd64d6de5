// The worker thread that reads the last part of a large response file (responses-csv.ts).
import { workerData } from 'node:worker_threads';
import { type PartJob, readPart } from './responses-csv.js';

readPart(workerData as PartJob);
