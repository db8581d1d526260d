/** Child process of a fuzz run: the server alone, so its memory can be measured and a hang cannot stall the fuzzer. */
import { startFuzzTrove } from './trove.js';

if (process.env.FUZZ_SURVIVE_CRASHES === '1') {
  // Trove itself has no handler, so in production each of these ends the process. Here the fuzzer
  // is told (it counts every one as a failure) and the run goes on, so one crash cannot end it early.
  process.on('uncaughtException', (error) => {
    process.send?.({ type: 'uncaught', stack: error.stack ?? String(error) });
  });
}

const trove = await startFuzzTrove({ logLevel: process.env.FUZZ_LOG_LEVEL ?? 'error' });
process.send?.({ type: 'ready', url: trove.url, port: trove.port });
const stop = () => {
  void trove.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
