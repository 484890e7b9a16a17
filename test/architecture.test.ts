/**
 * The import rules of ARCHITECTURE.md, checked on the sources: the table there ("| package |
 * kind | layer | may import |") is the one statement of which package may import which, and this
 * test fails when an import in packages/* /src breaks it. What it checks, per source file:
 *
 * - a relative import stays inside its own package;
 * - a workspace import (@switchboard/x) is listed in the package's "may import" cell (as `import
 *   type` where the cell says "(types only)"), and x sits on a lower layer (so no import cycle);
 * - any other import is a Node built-in or a dependency in the package's package.json;
 * - codecs and sans-IO cores import no sockets (node:dgram, net, tls, http, https, http2, ws,
 *   @switchboard/netio), and browser code imports no Node built-in at all;
 * - a package.json lists no workspace package the table does not allow.
 *
 * checkImports() is exported for the test of the test (a deliberate violation must be caught).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');

export type Kind = 'codec' | 'core' | 'io' | 'engine' | 'browser' | 'tool' | 'app' | 'static' | 'header';

export interface PackageRule {
  name: string;
  kind: Kind;
  layer: number;
  mayImport: string[];
  /** Of mayImport, those allowed only as `import type` (no code at run time). */
  typesOnly: string[];
}

/** Imports that open or serve sockets: not for codecs (bytes in, values out) or sans-IO cores. */
const SOCKET_MODULES = new Set(['node:dgram', 'node:net', 'node:tls', 'node:http', 'node:https', 'node:http2', 'dgram', 'net', 'tls', 'http', 'https', 'http2', 'ws', '@switchboard/netio']);
const NO_SOCKETS: ReadonlySet<Kind> = new Set(['codec', 'core']);
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Parses the rules table of ARCHITECTURE.md. */
export function parseRules(markdown: string): Map<string, PackageRule> {
  const rules = new Map<string, PackageRule>();
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^\|\s*package\s*\|\s*kind\s*\|\s*layer\s*\|\s*may import\s*\|/.test(l));
  assert.ok(start >= 0, 'ARCHITECTURE.md has no "| package | kind | layer | may import |" table');
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const name = cells[0]!.replace(/`/g, '');
    const kind = cells[1] as Kind;
    const layer = Number(cells[2]);
    const entries = cells[3] === '—' || cells[3] === '' ? [] : cells[3]!.split(',').map((e) => e.trim()).filter(Boolean);
    const nameOf = (e: string) => e.replace(/`/g, '').split(/\s/)[0]!;
    const mayImport = entries.map(nameOf);
    const typesOnly = entries.filter((e) => /\(types only\)/.test(e)).map(nameOf);
    rules.set(name, { name, kind, layer, mayImport, typesOnly });
  }
  return rules;
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(e) && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers of static imports, re-exports and dynamic imports with a literal; typeOnly: `import type` / `export type`. */
export function importsOf(source: string): { spec: string; typeOnly: boolean }[] {
  const out: { spec: string; typeOnly: boolean }[] = [];
  for (const m of source.matchAll(/(?:^|[\s;])(import|export)\s([^'"`;]*?)\bfrom\s*['"]([^'"]+)['"]/g)) out.push({ spec: m[3]!, typeOnly: /^type\s/.test(m[2]!) });
  for (const m of source.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g)) out.push({ spec: m[1]!, typeOnly: false });
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1]!, typeOnly: false });
  return out;
}

const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);

/** Every broken rule in package `pkg`, as "file: what" lines. */
export function checkImports(pkg: string, files: { path: string; source: string }[], rules: Map<string, PackageRule>, dependencies: string[]): string[] {
  const problems: string[] = [];
  const rule = rules.get(pkg);
  if (rule === undefined) return [`packages/${pkg}: not in the table of ARCHITECTURE.md: add it (kind, layer, may import)`];
  const pkgDir = join(ROOT, 'packages', pkg);
  for (const { path, source } of files) {
    const where = relative(ROOT, path);
    for (const { spec, typeOnly } of importsOf(source)) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(path), spec);
        if (relative(pkgDir, target).startsWith('..')) problems.push(`${where}: '${spec}' reaches outside packages/${pkg}; import the package by name`);
        continue;
      }
      if (rule.kind === 'browser' && BUILTINS.has(spec)) problems.push(`${where}: '${spec}' is a Node built-in; ${pkg} runs in the browser`);
      if (NO_SOCKETS.has(rule.kind) && SOCKET_MODULES.has(packageOf(spec))) problems.push(`${where}: '${spec}' opens sockets; ${pkg} is a ${rule.kind} (no sockets: a thin adapter elsewhere owns them)`);
      if (spec.startsWith('@switchboard/')) {
        const other = spec.slice('@switchboard/'.length).split('/')[0]!;
        const target = rules.get(other);
        if (!rule.mayImport.includes(other)) problems.push(`${where}: imports @switchboard/${other}, which ${pkg} may not import (ARCHITECTURE.md)`);
        else if (rule.typesOnly.includes(other) && !typeOnly) problems.push(`${where}: ${pkg} may import only types from @switchboard/${other} (import type)`);
        else if (target !== undefined && target.layer >= rule.layer) problems.push(`${where}: @switchboard/${other} is on layer ${target.layer}, not below ${pkg}'s ${rule.layer}`);
        continue;
      }
      if (BUILTINS.has(spec)) continue;
      if (!dependencies.includes(packageOf(spec))) problems.push(`${where}: '${spec}' is not a dependency in packages/${pkg}/package.json`);
    }
  }
  return problems;
}

function packageJson(pkg: string): { dependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(join(ROOT, 'packages', pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
}

test('ARCHITECTURE.md import rules hold for every package', () => {
  const rules = parseRules(readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8'));
  const packages = readdirSync(join(ROOT, 'packages')).filter((p) => statSync(join(ROOT, 'packages', p)).isDirectory());
  const problems: string[] = [];
  for (const pkg of packages) {
    const files = sourceFiles(join(ROOT, 'packages', pkg, 'src')).map((path) => ({ path, source: readFileSync(path, 'utf8') }));
    const deps = Object.keys(packageJson(pkg).dependencies ?? {});
    problems.push(...checkImports(pkg, files, rules, deps));
    const rule = rules.get(pkg);
    for (const d of deps.filter((x) => x.startsWith('@switchboard/'))) {
      const other = d.slice('@switchboard/'.length);
      if (rule && !rule.mayImport.includes(other)) problems.push(`packages/${pkg}/package.json: depends on ${d}, which ARCHITECTURE.md does not allow`);
    }
  }
  for (const name of rules.keys()) if (!packages.includes(name)) problems.push(`ARCHITECTURE.md lists '${name}', which is not in packages/`);
  assert.deepEqual(problems, []);
});

test('the import check catches a deliberate violation of each kind', () => {
  const rules = parseRules(readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8'));
  const file = (pkg: string, source: string) => [{ path: join(ROOT, 'packages', pkg, 'src', 'x.ts'), source }];
  const caught = (pkg: string, source: string, re: RegExp, deps: string[] = []) => {
    const p = checkImports(pkg, file(pkg, source), rules, deps);
    assert.ok(p.some((x) => re.test(x)), `${pkg}: ${JSON.stringify(source)} was not caught: ${JSON.stringify(p)}`);
  };
  caught('sfu', "import { SignalingServer } from '@switchboard/signaling';", /may not import/);
  caught('mcu', "import type { Sfu } from '@switchboard/sfu';", /may not import/);
  caught('rooms', "import { createServer } from '@switchboard/server';", /may not import/);
  caught('stun', "import { createSocket } from 'node:dgram';", /opens sockets/);
  caught('turn', "import { WebSocket } from 'ws';", /opens sockets/, ['ws']);
  caught('sdp', "export { x } from '../../rtp/src/index.js';", /reaches outside/);
  caught('client', "const os = await import('node:os');", /Node built-in/);
  caught('webrtc', "import { z } from 'zod';", /not a dependency/);
  caught('nosuch', '', /not in the table/);
  caught('rooms', "import { TopologySchema } from '@switchboard/protocol';", /only types/);
  // and the real sources pass as they are (the first test); a clean file passes here too
  assert.deepEqual(checkImports('sfu', file('sfu', "import { parse } from '@switchboard/sdp';\nimport { x } from './y.js';"), rules, []), []);
});
