// @ts-check
/* global process */
// Loaded into the daemon by the soak only (`node --expose-gc --import bench/soak-probe.mjs`):
// on a "measure" message over IPC it runs a full garbage collection and answers with
// process.memoryUsage(), so retained memory can be told apart from garbage not yet collected.
if (process.send) {
  process.on('message', (m) => {
    if (m?.type !== 'measure') return;
    globalThis.gc?.();
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
    process.send({ type: 'memory', rss, heapUsed, external, arrayBuffers });
  });
  // The channel must not keep the daemon alive once it wants to exit.
  process.channel?.unref();
}
