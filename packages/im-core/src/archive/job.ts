/** The hour job is the queue's message (queue/job.ts); kept here for the archive's existing imports. */
export { type HourJob, jobId, parseJob } from "../queue/job.ts";
