// Running Janus AudioBridge for the MCU load (a test, a benchmark): its configuration, and the
// address it needs. Janus skips loopback interfaces when it gathers ICE candidates, so it must
// run in a private network namespace where a veth carries its address (127.0.0.2 by default);
// see ../shared/LAB-NOTES.md and bench/sfu-vs-janus.ts, which this follows.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const JANUS_BINARY = '/usr/bin/janus';
export const JANUS_VETH_IP = '127.0.0.2';

export interface JanusAudioBridgeConfig {
  /** WebSocket transport port (bound to 127.0.0.1). */
  wsPort: number;
  /** The address Janus gathers on (a non-loopback interface must carry it). Default 127.0.0.2. */
  ip?: string;
  /** Janus debug_level (default 3: warnings). */
  debugLevel?: number;
  /** Janus event_loops (0: Janus' default, a loop thread per handle). */
  eventLoops?: number;
  rtpPortRange?: string;
  pluginsFolder?: string;
}

/**
 * Writes janus.jcfg, janus.plugin.audiobridge.jcfg and janus.transport.websockets.jcfg into `dir`:
 * the AudioBridge plugin and the WebSocket transport only, nothing recorded. Start Janus with
 * `janus -F dir`.
 */
export function writeJanusAudioBridgeConfig(dir: string, c: JanusAudioBridgeConfig): void {
  const ip = c.ip ?? JANUS_VETH_IP;
  const lib = c.pluginsFolder ?? '/usr/lib/x86_64-linux-gnu/janus';
  const files: Record<string, string> = {
    'janus.jcfg': `general: {
	configs_folder = "${dir}"
	plugins_folder = "${lib}/plugins"
	transports_folder = "${lib}/transports"
	events_folder = "${lib}/events"
	loggers_folder = "${lib}/loggers"
	debug_level = ${c.debugLevel ?? 3}
	debug_timestamps = true
	debug_colors = false
	admin_secret = "janusoverlord"
	server_name = "load-test-janus"
	interface = "${ip}"
	session_timeout = 120
${c.eventLoops ? `	event_loops = ${c.eventLoops}\n` : ''}	protected_folders = [ "/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sbin", "/sys", "/usr", "/var" ]
}
certificates: {
}
media: {
	rtp_port_range = "${c.rtpPortRange ?? '20000-40000'}"
}
nat: {
	nice_debug = false
	ice_enforce_list = "${ip}"
	ignore_mdns = true
}
plugins: {
	disable = "libjanus_videoroom.so,libjanus_echotest.so,libjanus_duktape.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so"
}
transports: {
	disable = "libjanus_http.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so"
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
events: {
	disable = "libjanus_gelfevh.so,libjanus_mqttevh.so,libjanus_nanomsgevh.so,libjanus_rabbitmqevh.so,libjanus_sampleevh.so,libjanus_wsevh.so"
}
`,
    'janus.plugin.audiobridge.jcfg': `general: {
	local_ip = "127.0.0.1"
	events = false
}
`,
    'janus.transport.websockets.jcfg': `general: {
	json = "plain"
	ws = true
	ws_port = ${c.wsPort}
	ws_ip = "127.0.0.1"
	wss = false
}
admin: {
	admin_ws = false
	admin_wss = false
}
cors: {
}
`,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
}

/**
 * Puts `ip` (default 127.0.0.2) on a veth pair, so that Janus gathers on it. Only in a private
 * network namespace (e.g. under `unshare -n`): it changes the namespace's interfaces. Returns
 * 'present' when an interface already has the address.
 */
export function addVethAddress(ip = JANUS_VETH_IP, names: [string, string] = ['sbjanus0', 'sbjanus1']): 'present' | 'created' {
  const run = (args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
  if (run(['addr', 'show', 'to', `${ip}/32`]).stdout.includes(ip)) return 'present';
  for (const args of [
    ['link', 'add', names[0], 'type', 'veth', 'peer', 'name', names[1]],
    ['addr', 'add', `${ip}/8`, 'dev', names[0]],
    ['link', 'set', names[0], 'up'],
    ['link', 'set', names[1], 'up'],
  ]) {
    const r = run(args);
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  }
  return 'created';
}
