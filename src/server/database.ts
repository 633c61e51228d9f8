import { RequestError } from '../errors.js';
import type { ServeSettings } from './settings.js';

/**
 * The database a request names (`db`, or v2's `bucket`): required; when the server was
 * given a list of databases, one of them (404 otherwise, as InfluxDB answers). Tables are
 * the store's: the database name selects no namespace, it guards against misdirected writes.
 */
export function checkDatabase(settings: ServeSettings, url: URL, param: 'db' | 'bucket'): string {
  const name = url.searchParams.get(param);
  if (name === null || name === '') throw new RequestError(400, `missing ${param} parameter: name the database (${param}=…)`);
  if (settings.databases && !settings.databases.has(name)) {
    throw new RequestError(404, `database not found: ${JSON.stringify(name)} (this server accepts ${[...settings.databases].map((d) => JSON.stringify(d)).join(', ')})`);
  }
  return name;
}
