// Starts the real fluxlab binary on 127.0.0.1:0 with a temporary SQLite database, reads the bound
// address from its log, and stops it (SIGTERM, then SIGKILL) at the end.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '..', '..');

export function binaryPath() {
  if (process.env.FLUXLAB_BIN) return process.env.FLUXLAB_BIN;
  const target = process.env.CARGO_TARGET_DIR ? resolve(repo, process.env.CARGO_TARGET_DIR) : join(repo, 'target');
  return join(target, 'debug', 'fluxlab');
}

/**
 * Starts a server. `dir`: the folder of the database to use (default: a new temporary one);
 * `keepDir`: leave it in place on stop (to start another server on the same database).
 */
export async function startServer({ dir: given, keepDir = false } = {}) {
  const bin = binaryPath();
  if (!existsSync(bin)) throw new Error(`no fluxlab binary at ${bin}: run cargo build first (or set FLUXLAB_BIN)`);
  const dir = given || mkdtempSync(join(tmpdir(), 'fluxlab-browser-'));
  const child = spawn(bin, ['serve', '--bind', '127.0.0.1:0', '--database', `sqlite://${join(dir, 'test.db')}`, '--max-jobs', '2'], {
    env: { ...process.env, NO_COLOR: '1', RUST_LOG: 'warn,fluxlab=info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const base = await new Promise((resolveBase, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 30 s:\n${log}`)), 30000);
    const onData = (chunk) => {
      log += chunk.toString();
      // eslint-disable-next-line no-control-regex
      const m = log.replace(/\x1b\[[0-9;]*m/g, '').match(/address=(127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolveBase(`http://${m[1]}`); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${log}`)); });
  });
  child.removeAllListeners('exit');
  for (let i = 0; i < 100; i += 1) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    base,
    dir,
    db: `sqlite://${join(dir, 'test.db')}`,
    bin,
    log: () => log,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(killer);
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
