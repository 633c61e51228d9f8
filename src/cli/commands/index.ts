/**
 * The command registry: one line per command, `export { xCommand as name } from './x.js'`.
 * The exported name is the command's name; `quiver --help`, the dispatcher and the shell
 * completion scripts are all derived from this list (help lists commands alphabetically).
 * A new command is its file plus one line here (docs/extending.md).
 */
export { compactCommand as compact } from './compact.js';
export { completionCommand as completion } from './completion.js';
export { copyCommand as copy } from './copy.js';
export { dropCommand as drop } from './drop.js';
export { exportCommand as export } from './export.js';
export { importCommand as import } from './import.js';
export { inspectCommand as inspect } from './inspect.js';
export { queryCommand as query } from './query.js';
export { reportCommand as report } from './report.js';
export { scanCommand as scan } from './scan.js';
export { serveCommand as serve } from './serve.js';
export { sqlCommand as sql } from './sql.js';
export { tablesCommand as tables } from './tables.js';
export { vacuumCommand as vacuum } from './vacuum.js';
export { verifyCommand as verify } from './verify.js';
export { walCommand as wal } from './wal.js';
