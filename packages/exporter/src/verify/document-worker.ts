import { parentPort, workerData } from 'node:worker_threads';
import { DocumentChecker, type DocumentJob } from './document-check.js';

// One thread of the verifier's pool: compiles the schema once, then checks documents as they come.
const checker = await DocumentChecker.create((workerData as { xsd: string }).xsd);
parentPort!.on('message', (job: DocumentJob & { id: number }) => {
  parentPort!.postMessage({ id: job.id, result: checker.check(job) });
});
