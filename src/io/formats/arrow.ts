/**
 * Arrow IPC, file ("ARROW1" magic, footer, random access) and stream (messages in order).
 * Two descriptors so each is detected by its own extension and magic; both read through
 * readArrowFile, which checks the bytes and tells the two apart itself, so a stream named
 * .arrow (or a file named .arrows) reads as before. Both need a regular file: the reader
 * checks the structure first (arrow-check.ts) and then reads the batches.
 */
import { readArrowFile } from '../arrow.js';
import { ARROW_MAGIC } from '../arrow-check.js';
import type { ImportFormatDescriptor } from './registry.js';

/** An IPC message starts with the continuation marker 0xFFFFFFFF. */
const CONTINUATION = 0xffffffff;

export const arrowFileFormat: ImportFormatDescriptor = {
  id: 'arrow-file',
  name: 'Arrow',
  longName: 'Arrow IPC',
  extensions: ['.arrow', '.ipc', '.feather'],
  magic: (head) => head.length >= 6 && Buffer.from(head.subarray(0, 6)).toString('latin1') === ARROW_MAGIC,
  pipeable: false,
  open: (input, context) => readArrowFile(input.file, context.counter, context.options, context.table),
};

export const arrowStreamFormat: ImportFormatDescriptor = {
  id: 'arrow-stream',
  name: 'Arrow',
  longName: 'Arrow IPC',
  extensions: ['.arrows'],
  magic: (head) => head.length >= 8 && Buffer.from(head).readUInt32LE(0) === CONTINUATION,
  pipeable: false,
  open: (input, context) => readArrowFile(input.file, context.counter, context.options, context.table),
};
