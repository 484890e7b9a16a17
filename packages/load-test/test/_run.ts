import { runLoadTest } from '../src/index.js';
const [url, target, subs, workers, dur] = process.argv.slice(2);
const r = await runLoadTest({ url, target: target as 'switchboard', room: 'r1', publishers: 1, subscribers: Number(subs), durationSec: Number(dur ?? 5), workers: workers === undefined ? undefined : Number(workers), apiKey: 'loadtest', apiSecret: 'loadtest-secret-0123456789', onProgress: (l) => console.log(l) });
console.log(JSON.stringify({ ...r, summary: undefined }));
process.exit(0);
