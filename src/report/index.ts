import { rename, rm, writeFile } from 'node:fs/promises';
import type { Quiver } from '../quiver.js';
import { collectReport, type ReportData } from './collect.js';
import { renderReport } from './html.js';

export { collectReport, renderReport, type ReportData };

/**
 * Writes the report of `table` to `path` (a temporary file renamed into place, so a failed
 * run never leaves half a page). Returns the page's size and what it shows.
 */
export async function writeReport(db: Quiver, table: string, path: string): Promise<{ bytes: number; data: ReportData }> {
  const data = await collectReport(db, table);
  const html = renderReport(data);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, html);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  return { bytes: Buffer.byteLength(html), data };
}
