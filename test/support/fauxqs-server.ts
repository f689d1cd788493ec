/**
 * fauxqs in its own process, so a benchmark can measure its own memory apart from the emulator's.
 * Run: `spawn(process.execPath, ["test/support/fauxqs-server.ts"])` from a script started with npx (Node 24). Prints one JSON line `{"endpoint":"http://127.0.0.1:N"}`
 * on stdout once listening, then serves until SIGTERM or SIGINT, or until its parent dies (so a
 * crashed benchmark does not leave it running).
 */
import { listenFauxqs } from "./fauxqs.ts";

const { app, endpoint } = await listenFauxqs();
process.stdout.write(`${JSON.stringify({ endpoint })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await app.close();
  process.exit(0);
}
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop();
}, 1000).unref();
