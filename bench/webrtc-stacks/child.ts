// Entry point of bench/webrtc-stacks.ts's child processes (one sender, one receiver per stack):
//   node --conditions=source --import tsx bench/webrtc-stacks/child.ts '<json ChildConfig>'
// Talks to the orchestrator over the IPC channel only; loads only its own stack.
import { config, fail } from './common.js';

const cfg = config();
try {
  const mod = cfg.stack === 'werift' ? await import('./werift.js') : cfg.stack === 'ndc' ? await import('./ndc.js') : await import('./switchboard.js');
  await (cfg.role === 'sender' ? mod.sender(cfg) : mod.receiver(cfg));
} catch (e) {
  fail(e);
}
