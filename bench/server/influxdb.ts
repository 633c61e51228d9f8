/**
 * InfluxDB 1.6 (Debian's `influxdb` package, `influxd`) started for a benchmark on 127.0.0.1
 * with its own directory and generated config: no reporting, no monitor store, no HTTP log,
 * WAL fsync on every write (the default, `wal-fsync-delay = "0s"`: acknowledged = durable, as
 * Quiver's WAL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Influx { url: string; pid: number; stop(): Promise<void> }

export async function startInfluxd(dir: string, httpPort: number, rpcPort: number): Promise<Influx> {
  const config = join(dir, 'influxdb.conf');
  writeFileSync(config, `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[retention]
  enabled = false
[shard-precreation]
  enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
[logging]
  level = "warn"
`);
  let child: ChildProcess;
  try {
    child = spawn('influxd', ['run', '-config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new Error(`cannot start influxd (Debian package influxdb: apt-get install influxdb): ${(error as Error).message}`);
  }
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`cannot start influxd (Debian package influxdb: apt-get install influxdb): ${e.message}`))));
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await Promise.race([fetch(`${url}/ping`).then((r) => r.status === 204, () => false), spawnError]);
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`influxd did not come up on ${url}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const created = await fetch(`${url}/query?q=${encodeURIComponent('CREATE DATABASE bench')}`, { method: 'POST' });
  if (!created.ok) throw new Error(`influxd: CREATE DATABASE failed: ${await created.text()}`);
  return {
    url, pid: child.pid!,
    async stop() { child.kill('SIGTERM'); await exited; },
  };
}
