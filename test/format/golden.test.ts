import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bufferSource, openChunk, writeChunk } from '../../src/format/index.js';
import { type ColumnSpec, columnValues, makeBatches } from './helpers.js';
import { expectedKeys, keysOf, timesFrom, typedBatch, type TypedColumn } from '../table/types-fixture.js';

/**
 * Golden chunks: bytes written by format v1 and committed here. Reading them must keep
 * working in every future version (compatibility), and writing the same input with codec
 * `none` must reproduce the bytes exactly (the layout has not drifted). zstd and lz4
 * outputs may legitimately change with library versions, so those are read-only goldens.
 */
const SPECS: ColumnSpec[] = [
  { name: 'time', kind: 'time', values: [1000n, 2000n, 3000n] },
  { name: 'host', kind: 'tag', values: ['b', 'a', 'b'] },
  { name: 'v', kind: 'float64', values: [1.5, null, -0] },
];

/**
 * Written by the current writer with codec none: every page footer of a numeric field carries
 * its `sum` statistic (added within format v1 as an optional field).
 */
const GOLDEN_CURRENT = [
  'UVZSMegDAAAAAAAA0AcAAAAAAAC4CwAAAAAAAAEAAAAAAAAAAQAAAAEAAAAAAAD4PwAAAAAAAAAAAAAAAAAAAIAAAAAA6QYAAHsiZm9ybWF0Vm',
  'Vyc2lvbiI6MSwid3JpdGVyIjoicXVpdmVyLWZvcm1hdC8xIiwicm93Q291bnQiOjMsInRpbWVDb2x1bW4iOiJ0aW1lIiwidGltZVVuaXQiOiJt',
  'cyIsInRhZ3MiOlsiaG9zdCJdLCJ0aW1lTWluIjoiMTAwMCIsInRpbWVNYXgiOiIzMDAwIiwicGFnZVJvd1N0YXJ0cyI6WzAsMiwzXSwiY29sdW',
  '1ucyI6W3sibmFtZSI6InRpbWUiLCJyb2xlIjoidGltZSIsInR5cGUiOiJ0aW1lc3RhbXAiLCJudWxsYWJsZSI6ZmFsc2UsImNvZGVjIjoibm9u',
  'ZSIsIm9mZnNldCI6NCwibGVuZ3RoIjoyNCwicmF3Qnl0ZXMiOjI0LCJzdG9yZWRCeXRlcyI6MjQsIm51bGxDb3VudCI6MCwibWluIjoiMTAwMC',
  'IsIm1heCI6IjMwMDAiLCJjcmMzMiI6MjU4NjU0NTUwOCwicGFnZXMiOlt7Im9mZnNldCI6NCwibGVuZ3RoIjoxNiwiZW5jb2RlZEJ5dGVzIjox',
  'NiwicmF3Qnl0ZXMiOjE2LCJyb3dzIjoyLCJudWxsQ291bnQiOjAsIm1pbiI6IjEwMDAiLCJtYXgiOiIyMDAwIiwiZW5jb2RpbmciOiJwbGFpbi',
  'IsImNyYzMyIjo2ODQ5NTUyNjZ9LHsib2Zmc2V0IjoyMCwibGVuZ3RoIjo4LCJlbmNvZGVkQnl0ZXMiOjgsInJhd0J5dGVzIjo4LCJyb3dzIjox',
  'LCJudWxsQ291bnQiOjAsIm1pbiI6IjMwMDAiLCJtYXgiOiIzMDAwIiwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjoxNjQ3NzI0MTYxfV19LH',
  'sibmFtZSI6Imhvc3QiLCJyb2xlIjoidGFnIiwidHlwZSI6InN0cmluZyIsIm51bGxhYmxlIjp0cnVlLCJjb2RlYyI6Im5vbmUiLCJvZmZzZXQi',
  'OjI4LCJsZW5ndGgiOjEyLCJyYXdCeXRlcyI6MTIsInN0b3JlZEJ5dGVzIjoxMiwibnVsbENvdW50IjowLCJtaW4iOiJhIiwibWF4IjoiYiIsIm',
  'NyYzMyIjoxNDg5ODI1MTI1LCJwYWdlcyI6W3sib2Zmc2V0IjoyOCwibGVuZ3RoIjo4LCJlbmNvZGVkQnl0ZXMiOjgsInJhd0J5dGVzIjo4LCJy',
  'b3dzIjoyLCJudWxsQ291bnQiOjAsIm1pbiI6ImEiLCJtYXgiOiJiIiwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjoyODQ0MzE5NzM1fSx7Im',
  '9mZnNldCI6MzYsImxlbmd0aCI6NCwiZW5jb2RlZEJ5dGVzIjo0LCJyYXdCeXRlcyI6NCwicm93cyI6MSwibnVsbENvdW50IjowLCJtaW4iOiJi',
  'IiwibWF4IjoiYiIsImVuY29kaW5nIjoicGxhaW4iLCJjcmMzMiI6MjU4MzIxNDIwMX1dLCJkaWN0aW9uYXJ5IjpbImEiLCJiIl19LHsibmFtZS',
  'I6InYiLCJyb2xlIjoiZmllbGQiLCJ0eXBlIjoiZmxvYXQ2NCIsIm51bGxhYmxlIjp0cnVlLCJjb2RlYyI6Im5vbmUiLCJvZmZzZXQiOjQwLCJs',
  'ZW5ndGgiOjI1LCJyYXdCeXRlcyI6MjUsInN0b3JlZEJ5dGVzIjoyNSwibnVsbENvdW50IjoxLCJtaW4iOiItMCIsIm1heCI6MS41LCJjcmMzMi',
  'I6Nzg2MzIzNzY2LCJwYWdlcyI6W3sib2Zmc2V0Ijo0MCwibGVuZ3RoIjoxNywiZW5jb2RlZEJ5dGVzIjoxNiwicmF3Qnl0ZXMiOjE3LCJyb3dz',
  'IjoyLCJudWxsQ291bnQiOjEsIm1pbiI6MS41LCJtYXgiOjEuNSwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjozMTYwMDc4NzM2LCJ2YWxpZG',
  'l0eUVuY29kaW5nIjoicGxhaW4iLCJ2YWxpZGl0eUxlbmd0aCI6MSwidmFsaWRpdHlFbmNvZGVkQnl0ZXMiOjEsInN1bSI6MS41fSx7Im9mZnNl',
  'dCI6NTcsImxlbmd0aCI6OCwiZW5jb2RlZEJ5dGVzIjo4LCJyYXdCeXRlcyI6OCwicm93cyI6MSwibnVsbENvdW50IjowLCJtaW4iOiItMCIsIm',
  '1heCI6Ii0wIiwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjoyMjkxODE3NTQ1LCJzdW0iOjB9XX1dLCJzb3J0ZWRCeVNlcmllcyI6ZmFsc2Us',
  'ImxpbmVhZ2UiOltdLCJtZXRhZGF0YSI6e3198QYAAFLxjfIBAAAAUVZSMQ==',
].join('');

/** Written by format v1 before page sums existed: read-only, readers must not need a sum. */
const GOLDEN: Record<'none' | 'zstd' | 'lz4', string> = {
  none: [
  'UVZSMegDAAAAAAAA0AcAAAAAAAC4CwAAAAAAAAEAAAAAAAAAAQAAAAEAAAAAAAD4PwAAAAAAAAAAAAAAAAAAAIAAAAAA1wYAAHsiZm9ybWF0Vm',
  'Vyc2lvbiI6MSwid3JpdGVyIjoicXVpdmVyLWZvcm1hdC8xIiwicm93Q291bnQiOjMsInRpbWVDb2x1bW4iOiJ0aW1lIiwidGltZVVuaXQiOiJt',
  'cyIsInRhZ3MiOlsiaG9zdCJdLCJ0aW1lTWluIjoiMTAwMCIsInRpbWVNYXgiOiIzMDAwIiwicGFnZVJvd1N0YXJ0cyI6WzAsMiwzXSwiY29sdW',
  '1ucyI6W3sibmFtZSI6InRpbWUiLCJyb2xlIjoidGltZSIsInR5cGUiOiJ0aW1lc3RhbXAiLCJudWxsYWJsZSI6ZmFsc2UsImNvZGVjIjoibm9u',
  'ZSIsIm9mZnNldCI6NCwibGVuZ3RoIjoyNCwicmF3Qnl0ZXMiOjI0LCJzdG9yZWRCeXRlcyI6MjQsIm51bGxDb3VudCI6MCwibWluIjoiMTAwMC',
  'IsIm1heCI6IjMwMDAiLCJjcmMzMiI6MjU4NjU0NTUwOCwicGFnZXMiOlt7Im9mZnNldCI6NCwibGVuZ3RoIjoxNiwiZW5jb2RlZEJ5dGVzIjox',
  'NiwicmF3Qnl0ZXMiOjE2LCJyb3dzIjoyLCJudWxsQ291bnQiOjAsIm1pbiI6IjEwMDAiLCJtYXgiOiIyMDAwIiwiZW5jb2RpbmciOiJwbGFpbi',
  'IsImNyYzMyIjo2ODQ5NTUyNjZ9LHsib2Zmc2V0IjoyMCwibGVuZ3RoIjo4LCJlbmNvZGVkQnl0ZXMiOjgsInJhd0J5dGVzIjo4LCJyb3dzIjox',
  'LCJudWxsQ291bnQiOjAsIm1pbiI6IjMwMDAiLCJtYXgiOiIzMDAwIiwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjoxNjQ3NzI0MTYxfV19LH',
  'sibmFtZSI6Imhvc3QiLCJyb2xlIjoidGFnIiwidHlwZSI6InN0cmluZyIsIm51bGxhYmxlIjp0cnVlLCJjb2RlYyI6Im5vbmUiLCJvZmZzZXQi',
  'OjI4LCJsZW5ndGgiOjEyLCJyYXdCeXRlcyI6MTIsInN0b3JlZEJ5dGVzIjoxMiwibnVsbENvdW50IjowLCJtaW4iOiJhIiwibWF4IjoiYiIsIm',
  'NyYzMyIjoxNDg5ODI1MTI1LCJwYWdlcyI6W3sib2Zmc2V0IjoyOCwibGVuZ3RoIjo4LCJlbmNvZGVkQnl0ZXMiOjgsInJhd0J5dGVzIjo4LCJy',
  'b3dzIjoyLCJudWxsQ291bnQiOjAsIm1pbiI6ImEiLCJtYXgiOiJiIiwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjoyODQ0MzE5NzM1fSx7Im',
  '9mZnNldCI6MzYsImxlbmd0aCI6NCwiZW5jb2RlZEJ5dGVzIjo0LCJyYXdCeXRlcyI6NCwicm93cyI6MSwibnVsbENvdW50IjowLCJtaW4iOiJi',
  'IiwibWF4IjoiYiIsImVuY29kaW5nIjoicGxhaW4iLCJjcmMzMiI6MjU4MzIxNDIwMX1dLCJkaWN0aW9uYXJ5IjpbImEiLCJiIl19LHsibmFtZS',
  'I6InYiLCJyb2xlIjoiZmllbGQiLCJ0eXBlIjoiZmxvYXQ2NCIsIm51bGxhYmxlIjp0cnVlLCJjb2RlYyI6Im5vbmUiLCJvZmZzZXQiOjQwLCJs',
  'ZW5ndGgiOjI1LCJyYXdCeXRlcyI6MjUsInN0b3JlZEJ5dGVzIjoyNSwibnVsbENvdW50IjoxLCJtaW4iOiItMCIsIm1heCI6MS41LCJjcmMzMi',
  'I6Nzg2MzIzNzY2LCJwYWdlcyI6W3sib2Zmc2V0Ijo0MCwibGVuZ3RoIjoxNywiZW5jb2RlZEJ5dGVzIjoxNiwicmF3Qnl0ZXMiOjE3LCJyb3dz',
  'IjoyLCJudWxsQ291bnQiOjEsIm1pbiI6MS41LCJtYXgiOjEuNSwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjozMTYwMDc4NzM2LCJ2YWxpZG',
  'l0eUVuY29kaW5nIjoicGxhaW4iLCJ2YWxpZGl0eUxlbmd0aCI6MSwidmFsaWRpdHlFbmNvZGVkQnl0ZXMiOjF9LHsib2Zmc2V0Ijo1NywibGVu',
  'Z3RoIjo4LCJlbmNvZGVkQnl0ZXMiOjgsInJhd0J5dGVzIjo4LCJyb3dzIjoxLCJudWxsQ291bnQiOjAsIm1pbiI6Ii0wIiwibWF4IjoiLTAiLC',
  'JlbmNvZGluZyI6InBsYWluIiwiY3JjMzIiOjIyOTE4MTc1NDV9XX1dLCJzb3J0ZWRCeVNlcmllcyI6ZmFsc2UsImxpbmVhZ2UiOltdLCJtZXRh',
  'ZGF0YSI6e3193wYAABDA3XgBAAAAUVZSMQ==',
  ].join(''),
  zstd: [
  'UVZSMSi1L/0gEIEAAOgDAAAAAAAA0AcAAAAAAAAotS/9IAhBAAC4CwAAAAAAACi1L/0gCEEAAAEAAAAAAAAAKLUv/SAEIQAAAQAAACi1L/0gAQ',
  'kAAAEotS/9IBCBAAAAAAAAAAD4PwAAAAAAAAAAKLUv/SAIQQAAAAAAAAAAAIAAAAAACwcAAHsiZm9ybWF0VmVyc2lvbiI6MSwid3JpdGVyIjoi',
  'cXVpdmVyLWZvcm1hdC8xIiwicm93Q291bnQiOjMsInRpbWVDb2x1bW4iOiJ0aW1lIiwidGltZVVuaXQiOiJtcyIsInRhZ3MiOlsiaG9zdCJdLC',
  'J0aW1lTWluIjoiMTAwMCIsInRpbWVNYXgiOiIzMDAwIiwicGFnZVJvd1N0YXJ0cyI6WzAsMiwzXSwiY29sdW1ucyI6W3sibmFtZSI6InRpbWUi',
  'LCJyb2xlIjoidGltZSIsInR5cGUiOiJ0aW1lc3RhbXAiLCJudWxsYWJsZSI6ZmFsc2UsImNvZGVjIjoienN0ZCIsIm9mZnNldCI6NCwibGVuZ3',
  'RoIjo0MiwicmF3Qnl0ZXMiOjI0LCJzdG9yZWRCeXRlcyI6NDIsIm51bGxDb3VudCI6MCwibWluIjoiMTAwMCIsIm1heCI6IjMwMDAiLCJjcmMz',
  'MiI6MTAwMTE0NzYwMywicGFnZXMiOlt7Im9mZnNldCI6NCwibGVuZ3RoIjoyNSwiZW5jb2RlZEJ5dGVzIjoxNiwicmF3Qnl0ZXMiOjE2LCJyb3',
  'dzIjoyLCJudWxsQ291bnQiOjAsIm1pbiI6IjEwMDAiLCJtYXgiOiIyMDAwIiwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjoyMzc3OTY4NTg1',
  'fSx7Im9mZnNldCI6MjksImxlbmd0aCI6MTcsImVuY29kZWRCeXRlcyI6OCwicmF3Qnl0ZXMiOjgsInJvd3MiOjEsIm51bGxDb3VudCI6MCwibW',
  'luIjoiMzAwMCIsIm1heCI6IjMwMDAiLCJlbmNvZGluZyI6InBsYWluIiwiY3JjMzIiOjE5MTEyNDU1NDd9XSwiY29kZWNMZXZlbCI6M30seyJu',
  'YW1lIjoiaG9zdCIsInJvbGUiOiJ0YWciLCJ0eXBlIjoic3RyaW5nIiwibnVsbGFibGUiOnRydWUsImNvZGVjIjoienN0ZCIsIm9mZnNldCI6ND',
  'YsImxlbmd0aCI6MzAsInJhd0J5dGVzIjoxMiwic3RvcmVkQnl0ZXMiOjMwLCJudWxsQ291bnQiOjAsIm1pbiI6ImEiLCJtYXgiOiJiIiwiY3Jj',
  'MzIiOjMzMDUxOTI0NDMsInBhZ2VzIjpbeyJvZmZzZXQiOjQ2LCJsZW5ndGgiOjE3LCJlbmNvZGVkQnl0ZXMiOjgsInJhd0J5dGVzIjo4LCJyb3',
  'dzIjoyLCJudWxsQ291bnQiOjAsIm1pbiI6ImEiLCJtYXgiOiJiIiwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjozMTI2MTg2OTA5fSx7Im9m',
  'ZnNldCI6NjMsImxlbmd0aCI6MTMsImVuY29kZWRCeXRlcyI6NCwicmF3Qnl0ZXMiOjQsInJvd3MiOjEsIm51bGxDb3VudCI6MCwibWluIjoiYi',
  'IsIm1heCI6ImIiLCJlbmNvZGluZyI6InBsYWluIiwiY3JjMzIiOjc2MTIyMjU5NH1dLCJjb2RlY0xldmVsIjozLCJkaWN0aW9uYXJ5IjpbImEi',
  'LCJiIl19LHsibmFtZSI6InYiLCJyb2xlIjoiZmllbGQiLCJ0eXBlIjoiZmxvYXQ2NCIsIm51bGxhYmxlIjp0cnVlLCJjb2RlYyI6InpzdGQiLC',
  'JvZmZzZXQiOjc2LCJsZW5ndGgiOjUyLCJyYXdCeXRlcyI6MjUsInN0b3JlZEJ5dGVzIjo1MiwibnVsbENvdW50IjoxLCJtaW4iOiItMCIsIm1h',
  'eCI6MS41LCJjcmMzMiI6MTgxNjIzNjQ0OCwicGFnZXMiOlt7Im9mZnNldCI6NzYsImxlbmd0aCI6MzUsImVuY29kZWRCeXRlcyI6MTYsInJhd0',
  'J5dGVzIjoxNywicm93cyI6MiwibnVsbENvdW50IjoxLCJtaW4iOjEuNSwibWF4IjoxLjUsImVuY29kaW5nIjoicGxhaW4iLCJjcmMzMiI6MTg0',
  'NzkyMzI4NywidmFsaWRpdHlFbmNvZGluZyI6InBsYWluIiwidmFsaWRpdHlMZW5ndGgiOjEwLCJ2YWxpZGl0eUVuY29kZWRCeXRlcyI6MX0sey',
  'JvZmZzZXQiOjExMSwibGVuZ3RoIjoxNywiZW5jb2RlZEJ5dGVzIjo4LCJyYXdCeXRlcyI6OCwicm93cyI6MSwibnVsbENvdW50IjowLCJtaW4i',
  'OiItMCIsIm1heCI6Ii0wIiwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjoyNjA1MTQyMDUxfV0sImNvZGVjTGV2ZWwiOjN9XSwic29ydGVkQn',
  'lTZXJpZXMiOmZhbHNlLCJsaW5lYWdlIjpbXSwibWV0YWRhdGEiOnt9fRMHAACzw7I2AQAAAFFWUjE=',
  ].join(''),
  lz4: [
  'UVZSMRAAAAAx6AMAAQCA0AcAAAAAAAAIAAAAgLgLAAAAAAAACAAAAIABAAAAAAAAAAQAAABAAQAAAAEAAAAQARAAAAARAAEAoPg/AAAAAAAAAA',
  'AIAAAAgAAAAAAAAACAAAAAANYGAAB7ImZvcm1hdFZlcnNpb24iOjEsIndyaXRlciI6InF1aXZlci1mb3JtYXQvMSIsInJvd0NvdW50IjozLCJ0',
  'aW1lQ29sdW1uIjoidGltZSIsInRpbWVVbml0IjoibXMiLCJ0YWdzIjpbImhvc3QiXSwidGltZU1pbiI6IjEwMDAiLCJ0aW1lTWF4IjoiMzAwMC',
  'IsInBhZ2VSb3dTdGFydHMiOlswLDIsM10sImNvbHVtbnMiOlt7Im5hbWUiOiJ0aW1lIiwicm9sZSI6InRpbWUiLCJ0eXBlIjoidGltZXN0YW1w',
  'IiwibnVsbGFibGUiOmZhbHNlLCJjb2RlYyI6Imx6NCIsIm9mZnNldCI6NCwibGVuZ3RoIjozMiwicmF3Qnl0ZXMiOjI0LCJzdG9yZWRCeXRlcy',
  'I6MzIsIm51bGxDb3VudCI6MCwibWluIjoiMTAwMCIsIm1heCI6IjMwMDAiLCJjcmMzMiI6MzA4Nzc4MjQsInBhZ2VzIjpbeyJvZmZzZXQiOjQs',
  'Imxlbmd0aCI6MTksImVuY29kZWRCeXRlcyI6MTYsInJhd0J5dGVzIjoxNiwicm93cyI6MiwibnVsbENvdW50IjowLCJtaW4iOiIxMDAwIiwibW',
  'F4IjoiMjAwMCIsImVuY29kaW5nIjoicGxhaW4iLCJjcmMzMiI6MTQ5ODAyNTMzMH0seyJvZmZzZXQiOjIzLCJsZW5ndGgiOjEzLCJlbmNvZGVk',
  'Qnl0ZXMiOjgsInJhd0J5dGVzIjo4LCJyb3dzIjoxLCJudWxsQ291bnQiOjAsIm1pbiI6IjMwMDAiLCJtYXgiOiIzMDAwIiwiZW5jb2RpbmciOi',
  'JwbGFpbiIsImNyYzMyIjo4NzU5NTczMjB9XX0seyJuYW1lIjoiaG9zdCIsInJvbGUiOiJ0YWciLCJ0eXBlIjoic3RyaW5nIiwibnVsbGFibGUi',
  'OnRydWUsImNvZGVjIjoibHo0Iiwib2Zmc2V0IjozNiwibGVuZ3RoIjoyMiwicmF3Qnl0ZXMiOjEyLCJzdG9yZWRCeXRlcyI6MjIsIm51bGxDb3',
  'VudCI6MCwibWluIjoiYSIsIm1heCI6ImIiLCJjcmMzMiI6MjIzMTY4NjE0NiwicGFnZXMiOlt7Im9mZnNldCI6MzYsImxlbmd0aCI6MTMsImVu',
  'Y29kZWRCeXRlcyI6OCwicmF3Qnl0ZXMiOjgsInJvd3MiOjIsIm51bGxDb3VudCI6MCwibWluIjoiYSIsIm1heCI6ImIiLCJlbmNvZGluZyI6In',
  'BsYWluIiwiY3JjMzIiOjQyODcxNDExODJ9LHsib2Zmc2V0Ijo0OSwibGVuZ3RoIjo5LCJlbmNvZGVkQnl0ZXMiOjQsInJhd0J5dGVzIjo0LCJy',
  'b3dzIjoxLCJudWxsQ291bnQiOjAsIm1pbiI6ImIiLCJtYXgiOiJiIiwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjoxNTM3ODk5MTUwfV0sIm',
  'RpY3Rpb25hcnkiOlsiYSIsImIiXX0seyJuYW1lIjoidiIsInJvbGUiOiJmaWVsZCIsInR5cGUiOiJmbG9hdDY0IiwibnVsbGFibGUiOnRydWUs',
  'ImNvZGVjIjoibHo0Iiwib2Zmc2V0Ijo1OCwibGVuZ3RoIjozOCwicmF3Qnl0ZXMiOjI1LCJzdG9yZWRCeXRlcyI6MzgsIm51bGxDb3VudCI6MS',
  'wibWluIjoiLTAiLCJtYXgiOjEuNSwiY3JjMzIiOjE5NTYxNDc5MDQsInBhZ2VzIjpbeyJvZmZzZXQiOjU4LCJsZW5ndGgiOjI1LCJlbmNvZGVk',
  'Qnl0ZXMiOjE2LCJyYXdCeXRlcyI6MTcsInJvd3MiOjIsIm51bGxDb3VudCI6MSwibWluIjoxLjUsIm1heCI6MS41LCJlbmNvZGluZyI6InBsYW',
  'luIiwiY3JjMzIiOjEzOTA3MDA1ODEsInZhbGlkaXR5RW5jb2RpbmciOiJwbGFpbiIsInZhbGlkaXR5TGVuZ3RoIjo2LCJ2YWxpZGl0eUVuY29k',
  'ZWRCeXRlcyI6MX0seyJvZmZzZXQiOjgzLCJsZW5ndGgiOjEzLCJlbmNvZGVkQnl0ZXMiOjgsInJhd0J5dGVzIjo4LCJyb3dzIjoxLCJudWxsQ2',
  '91bnQiOjAsIm1pbiI6Ii0wIiwibWF4IjoiLTAiLCJlbmNvZGluZyI6InBsYWluIiwiY3JjMzIiOjM3MzQ2NDAyNTZ9XX1dLCJzb3J0ZWRCeVNl',
  'cmllcyI6ZmFsc2UsImxpbmVhZ2UiOltdLCJtZXRhZGF0YSI6e3193gYAAO1X24UBAAAAUVZSMQ==',
  ].join(''),
};

describe('golden chunks (format v1)', () => {
  test('writing the golden input with codec none reproduces the golden bytes', () => {
    // Encodings forced to plain: the golden pins the layout, not the encoding picker's choices.
    const plain = { encoding: 'plain', validityEncoding: 'plain' };
    const { bytes } = writeChunk(makeBatches(SPECS), {
      timeColumn: 'time', tags: ['host'], codec: 'none', pageRows: 2, columns: { time: plain, host: plain, v: plain },
    });
    assert.equal(Buffer.from(bytes).toString('base64'), GOLDEN_CURRENT);
  });

  test('the current golden differs from the pre-sum one only by page sums', async () => {
    const current = await openChunk(bufferSource(new Uint8Array(Buffer.from(GOLDEN_CURRENT, 'base64')), 'golden-current.qvr'));
    const old = await openChunk(bufferSource(new Uint8Array(Buffer.from(GOLDEN.none, 'base64')), 'golden-none.qvr'));
    assert.deepEqual(current.footer.columns[2]!.pages.map((p) => p.sum), [1.5, 0]);
    assert.equal(old.footer.columns[2]!.pages.some((p) => 'sum' in p), false);
    for (const c of current.footer.columns) for (const p of c.pages) delete p.sum;
    // Offsets and page bytes are identical; only the footer (and so the trailer) moved.
    assert.deepEqual(JSON.stringify(current.footer), JSON.stringify(old.footer));
    assert.equal((await current.verify({ decode: true })).ok, true);
  });

  test('the head of the golden file is the documented layout', () => {
    const bytes = Buffer.from(GOLDEN.none, 'base64');
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'QVR1');
    assert.equal(bytes.subarray(bytes.length - 4).toString('latin1'), 'QVR1');
    assert.equal(bytes.readUInt32LE(bytes.length - 8), 1, 'format version');
    const footerBytes = bytes.readUInt32LE(bytes.length - 16);
    const footerStart = bytes.length - 16 - footerBytes;
    assert.equal(bytes[footerStart], 0, 'plain JSON footer');
    assert.equal(bytes.readUInt32LE(footerStart + 4), footerBytes - 8);
    // Page 0 of the time column: two plain int64 values right after the magic.
    assert.equal(bytes.readBigInt64LE(4), 1000n);
    assert.equal(bytes.readBigInt64LE(12), 2000n);
  });

  for (const codec of ['none', 'zstd', 'lz4'] as const) {
    test(`the ${codec} golden chunk reads back`, async () => {
      const reader = await openChunk(bufferSource(new Uint8Array(Buffer.from(GOLDEN[codec], 'base64')), `golden-${codec}.qvr`));
      assert.equal(reader.footer.rowCount, 3);
      assert.deepEqual(reader.footer.pageRowStarts, [0, 2, 3]);
      assert.equal(reader.footer.columns[2]!.codec, codec);
      const batch = await reader.read();
      assert.deepEqual(columnValues(batch, 'time'), [1000n, 2000n, 3000n]);
      assert.deepEqual(columnValues(batch, 'host'), ['b', 'a', 'b']);
      const v = columnValues(batch, 'v');
      assert.equal(v[0], 1.5);
      assert.equal(v[1], null);
      assert.ok(Object.is(v[2], -0));
      assert.equal((await reader.verify({ decode: true })).ok, true);
    });
  }
});

/** The field types beyond the numbers (docs/types.md), extremes and nulls, two rows per page. */
const TYPED: TypedColumn[] = [
  { name: 'd', type: 'date32', values: [0n, -1n, null] },
  { name: 't', type: 'time(ms)', values: [86399999n, null, 0n] },
  { name: 'dur', type: 'duration(ns)', values: [-(2n ** 63n), 2n ** 63n - 1n, 5n] },
  { name: 'at', type: 'timestamp(us,UTC)', values: [1n, null, -1n] },
  { name: 'dec', type: 'decimal(9,2)', values: [-99999n, 12345n, null] },
  { name: 'wide', type: 'decimal(38,10)', values: [10n ** 38n - 1n, null, -(10n ** 38n - 1n)] },
  { name: 'bin', type: 'binary', values: [new Uint8Array(0), Uint8Array.of(0xff, 0), null] },
  { name: 'uuid', type: 'fixed_binary(4)', values: [Uint8Array.of(1, 2, 3, 4), null, Uint8Array.of(255, 255, 255, 255)] },
];

/** Written with codec none and plain pages: the types' layouts (int32, int64, fixed 16-byte and n-byte pages, binary offsets) and statistics. */
const GOLDEN_TYPES = [
  'UVZSMegDAAAAAAAA6M2aOwAAAADolzV3AAAAAAAAAAD/////AAAAAAAB/1smBQAAAAAAAAAAAAAAAAAAAID/////////fwUAAAAAAAAAAQEAAA',
  'AAAAAAAAAAAAAAAAD//////////2F5/v//////OTAAAAAAAAAAAAAAAAAAAAAB/////z8iigl6xIZaqEw7SwAAAAAAAAAAAAAAAAAAAAABAAAA',
  'wN119oU7eaVXs8S0AAAAAAAAAAACAAAA/wAAAAAAAAAAAAABAQIDBAAAAAD/////AAAAAKEVAAB7ImZvcm1hdFZlcnNpb24iOjEsIndyaXRlci',
  'I6InF1aXZlci1mb3JtYXQvMSIsInJvd0NvdW50IjozLCJ0aW1lQ29sdW1uIjoidGltZSIsInRpbWVVbml0IjoibnMiLCJ0YWdzIjpbXSwidGlt',
  'ZU1pbiI6IjEwMDAiLCJ0aW1lTWF4IjoiMjAwMDAwMTAwMCIsInBhZ2VSb3dTdGFydHMiOlswLDIsM10sImNvbHVtbnMiOlt7Im5hbWUiOiJ0aW',
  '1lIiwicm9sZSI6InRpbWUiLCJ0eXBlIjoidGltZXN0YW1wIiwibnVsbGFibGUiOmZhbHNlLCJjb2RlYyI6Im5vbmUiLCJvZmZzZXQiOjQsImxl',
  'bmd0aCI6MjQsInJhd0J5dGVzIjoyNCwic3RvcmVkQnl0ZXMiOjI0LCJudWxsQ291bnQiOjAsIm1pbiI6IjEwMDAiLCJtYXgiOiIyMDAwMDAxMD',
  'AwIiwiY3JjMzIiOjEzMTA2MzgwMzAsInBhZ2VzIjpbeyJvZmZzZXQiOjQsImxlbmd0aCI6MTYsImVuY29kZWRCeXRlcyI6MTYsInJhd0J5dGVz',
  'IjoxNiwicm93cyI6MiwibnVsbENvdW50IjowLCJtaW4iOiIxMDAwIiwibWF4IjoiMTAwMDAwMTAwMCIsImVuY29kaW5nIjoicGxhaW4iLCJjcm',
  'MzMiI6MjA5MDUwODg2MX0seyJvZmZzZXQiOjIwLCJsZW5ndGgiOjgsImVuY29kZWRCeXRlcyI6OCwicmF3Qnl0ZXMiOjgsInJvd3MiOjEsIm51',
  'bGxDb3VudCI6MCwibWluIjoiMjAwMDAwMTAwMCIsIm1heCI6IjIwMDAwMDEwMDAiLCJlbmNvZGluZyI6InBsYWluIiwiY3JjMzIiOjM5OTg2Nz',
  'B9XX0seyJuYW1lIjoiZCIsInJvbGUiOiJmaWVsZCIsInR5cGUiOiJkYXRlMzIiLCJudWxsYWJsZSI6dHJ1ZSwiY29kZWMiOiJub25lIiwib2Zm',
  'c2V0IjoyOCwibGVuZ3RoIjoxMywicmF3Qnl0ZXMiOjEzLCJzdG9yZWRCeXRlcyI6MTMsIm51bGxDb3VudCI6MSwibWluIjoiLTEiLCJtYXgiOi',
  'IwIiwiY3JjMzIiOjM3NzY2MjkzMSwicGFnZXMiOlt7Im9mZnNldCI6MjgsImxlbmd0aCI6OCwiZW5jb2RlZEJ5dGVzIjo4LCJyYXdCeXRlcyI6',
  'OCwicm93cyI6MiwibnVsbENvdW50IjowLCJtaW4iOiItMSIsIm1heCI6IjAiLCJlbmNvZGluZyI6InBsYWluIiwiY3JjMzIiOjMxNDc0MzE4MT',
  'h9LHsib2Zmc2V0IjozNiwibGVuZ3RoIjo1LCJlbmNvZGVkQnl0ZXMiOjQsInJhd0J5dGVzIjo1LCJyb3dzIjoxLCJudWxsQ291bnQiOjEsIm1p',
  'biI6bnVsbCwibWF4IjpudWxsLCJlbmNvZGluZyI6InBsYWluIiwiY3JjMzIiOjMzMjQxODAyNTMsInZhbGlkaXR5RW5jb2RpbmciOiJwbGFpbi',
  'IsInZhbGlkaXR5TGVuZ3RoIjoxLCJ2YWxpZGl0eUVuY29kZWRCeXRlcyI6MX1dfSx7Im5hbWUiOiJ0Iiwicm9sZSI6ImZpZWxkIiwidHlwZSI6',
  'InRpbWUobXMpIiwibnVsbGFibGUiOnRydWUsImNvZGVjIjoibm9uZSIsIm9mZnNldCI6NDEsImxlbmd0aCI6MTMsInJhd0J5dGVzIjoxMywic3',
  'RvcmVkQnl0ZXMiOjEzLCJudWxsQ291bnQiOjEsIm1pbiI6IjAiLCJtYXgiOiI4NjM5OTk5OSIsImNyYzMyIjozMDgxNzk4MzYyLCJwYWdlcyI6',
  'W3sib2Zmc2V0Ijo0MSwibGVuZ3RoIjo5LCJlbmNvZGVkQnl0ZXMiOjgsInJhd0J5dGVzIjo5LCJyb3dzIjoyLCJudWxsQ291bnQiOjEsIm1pbi',
  'I6Ijg2Mzk5OTk5IiwibWF4IjoiODYzOTk5OTkiLCJlbmNvZGluZyI6InBsYWluIiwiY3JjMzIiOjQwMjY0NTQ1NTcsInZhbGlkaXR5RW5jb2Rp',
  'bmciOiJwbGFpbiIsInZhbGlkaXR5TGVuZ3RoIjoxLCJ2YWxpZGl0eUVuY29kZWRCeXRlcyI6MX0seyJvZmZzZXQiOjUwLCJsZW5ndGgiOjQsIm',
  'VuY29kZWRCeXRlcyI6NCwicmF3Qnl0ZXMiOjQsInJvd3MiOjEsIm51bGxDb3VudCI6MCwibWluIjoiMCIsIm1heCI6IjAiLCJlbmNvZGluZyI6',
  'InBsYWluIiwiY3JjMzIiOjU1ODE2MTY5Mn1dfSx7Im5hbWUiOiJkdXIiLCJyb2xlIjoiZmllbGQiLCJ0eXBlIjoiZHVyYXRpb24obnMpIiwibn',
  'VsbGFibGUiOnRydWUsImNvZGVjIjoibm9uZSIsIm9mZnNldCI6NTQsImxlbmd0aCI6MjQsInJhd0J5dGVzIjoyNCwic3RvcmVkQnl0ZXMiOjI0',
  'LCJudWxsQ291bnQiOjAsIm1pbiI6Ii05MjIzMzcyMDM2ODU0Nzc1ODA4IiwibWF4IjoiOTIyMzM3MjAzNjg1NDc3NTgwNyIsImNyYzMyIjoyNj',
  'k0MjE4NDU3LCJwYWdlcyI6W3sib2Zmc2V0Ijo1NCwibGVuZ3RoIjoxNiwiZW5jb2RlZEJ5dGVzIjoxNiwicmF3Qnl0ZXMiOjE2LCJyb3dzIjoy',
  'LCJudWxsQ291bnQiOjAsIm1pbiI6Ii05MjIzMzcyMDM2ODU0Nzc1ODA4IiwibWF4IjoiOTIyMzM3MjAzNjg1NDc3NTgwNyIsImVuY29kaW5nIj',
  'oicGxhaW4iLCJjcmMzMiI6NTkwMzk5NTY3LCJzdW0iOiItMSJ9LHsib2Zmc2V0Ijo3MCwibGVuZ3RoIjo4LCJlbmNvZGVkQnl0ZXMiOjgsInJh',
  'd0J5dGVzIjo4LCJyb3dzIjoxLCJudWxsQ291bnQiOjAsIm1pbiI6IjUiLCJtYXgiOiI1IiwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjo3Nj',
  'c3NDIyMjEsInN1bSI6IjUifV19LHsibmFtZSI6ImF0Iiwicm9sZSI6ImZpZWxkIiwidHlwZSI6InRpbWVzdGFtcCh1cyxVVEMpIiwibnVsbGFi',
  'bGUiOnRydWUsImNvZGVjIjoibm9uZSIsIm9mZnNldCI6NzgsImxlbmd0aCI6MjUsInJhd0J5dGVzIjoyNSwic3RvcmVkQnl0ZXMiOjI1LCJudW',
  'xsQ291bnQiOjEsIm1pbiI6Ii0xIiwibWF4IjoiMSIsImNyYzMyIjoyMjk5MDAxODExLCJwYWdlcyI6W3sib2Zmc2V0Ijo3OCwibGVuZ3RoIjox',
  'NywiZW5jb2RlZEJ5dGVzIjoxNiwicmF3Qnl0ZXMiOjE3LCJyb3dzIjoyLCJudWxsQ291bnQiOjEsIm1pbiI6IjEiLCJtYXgiOiIxIiwiZW5jb2',
  'RpbmciOiJwbGFpbiIsImNyYzMyIjozNzYwMzAyOTU5LCJ2YWxpZGl0eUVuY29kaW5nIjoicGxhaW4iLCJ2YWxpZGl0eUxlbmd0aCI6MSwidmFs',
  'aWRpdHlFbmNvZGVkQnl0ZXMiOjF9LHsib2Zmc2V0Ijo5NSwibGVuZ3RoIjo4LCJlbmNvZGVkQnl0ZXMiOjgsInJhd0J5dGVzIjo4LCJyb3dzIj',
  'oxLCJudWxsQ291bnQiOjAsIm1pbiI6Ii0xIiwibWF4IjoiLTEiLCJlbmNvZGluZyI6InBsYWluIiwiY3JjMzIiOjU1ODE2MTY5Mn1dfSx7Im5h',
  'bWUiOiJkZWMiLCJyb2xlIjoiZmllbGQiLCJ0eXBlIjoiZGVjaW1hbCg5LDIpIiwibnVsbGFibGUiOnRydWUsImNvZGVjIjoibm9uZSIsIm9mZn',
  'NldCI6MTAzLCJsZW5ndGgiOjI1LCJyYXdCeXRlcyI6MjUsInN0b3JlZEJ5dGVzIjoyNSwibnVsbENvdW50IjoxLCJtaW4iOiItOTk5OTkiLCJt',
  'YXgiOiIxMjM0NSIsImNyYzMyIjoxMDEwOTYxMTY4LCJwYWdlcyI6W3sib2Zmc2V0IjoxMDMsImxlbmd0aCI6MTYsImVuY29kZWRCeXRlcyI6MT',
  'YsInJhd0J5dGVzIjoxNiwicm93cyI6MiwibnVsbENvdW50IjowLCJtaW4iOiItOTk5OTkiLCJtYXgiOiIxMjM0NSIsImVuY29kaW5nIjoicGxh',
  'aW4iLCJjcmMzMiI6NTcyNDQzNTQxLCJzdW0iOiItODc2NTQifSx7Im9mZnNldCI6MTE5LCJsZW5ndGgiOjksImVuY29kZWRCeXRlcyI6OCwicm',
  'F3Qnl0ZXMiOjksInJvd3MiOjEsIm51bGxDb3VudCI6MSwibWluIjpudWxsLCJtYXgiOm51bGwsImVuY29kaW5nIjoicGxhaW4iLCJjcmMzMiI6',
  'Mzg1OTM1NDc5OCwidmFsaWRpdHlFbmNvZGluZyI6InBsYWluIiwidmFsaWRpdHlMZW5ndGgiOjEsInZhbGlkaXR5RW5jb2RlZEJ5dGVzIjoxLC',
  'JzdW0iOiIwIn1dfSx7Im5hbWUiOiJ3aWRlIiwicm9sZSI6ImZpZWxkIiwidHlwZSI6ImRlY2ltYWwoMzgsMTApIiwibnVsbGFibGUiOnRydWUs',
  'ImNvZGVjIjoibm9uZSIsIm9mZnNldCI6MTI4LCJsZW5ndGgiOjQ5LCJyYXdCeXRlcyI6NDksInN0b3JlZEJ5dGVzIjo0OSwibnVsbENvdW50Ij',
  'oxLCJtaW4iOiItOTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTkiLCJtYXgiOiI5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5',
  'OTk5OTk5OTk5OTk5OSIsImNyYzMyIjoxNDI3MTM0MjQyLCJwYWdlcyI6W3sib2Zmc2V0IjoxMjgsImxlbmd0aCI6MzMsImVuY29kZWRCeXRlcy',
  'I6MzIsInJhd0J5dGVzIjozMywicm93cyI6MiwibnVsbENvdW50IjoxLCJtaW4iOiI5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5',
  'OTk5OSIsIm1heCI6Ijk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5IiwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjoyOT',
  'k0Mjg3ODgxLCJ2YWxpZGl0eUVuY29kaW5nIjoicGxhaW4iLCJ2YWxpZGl0eUxlbmd0aCI6MSwidmFsaWRpdHlFbmNvZGVkQnl0ZXMiOjEsInN1',
  'bSI6Ijk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5In0seyJvZmZzZXQiOjE2MSwibGVuZ3RoIjoxNiwiZW5jb2RlZEJ5dG',
  'VzIjoxNiwicmF3Qnl0ZXMiOjE2LCJyb3dzIjoxLCJudWxsQ291bnQiOjAsIm1pbiI6Ii05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5',
  'OTk5OTk5OSIsIm1heCI6Ii05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OSIsImVuY29kaW5nIjoicGxhaW4iLCJjcmMzMi',
  'I6NDA5NzY2OTA3Miwic3VtIjoiLTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5In1dfSx7Im5hbWUiOiJiaW4iLCJyb2xl',
  'IjoiZmllbGQiLCJ0eXBlIjoiYmluYXJ5IiwibnVsbGFibGUiOnRydWUsImNvZGVjIjoibm9uZSIsIm9mZnNldCI6MTc3LCJsZW5ndGgiOjIzLC',
  'JyYXdCeXRlcyI6MjMsInN0b3JlZEJ5dGVzIjoyMywibnVsbENvdW50IjoxLCJtaW4iOm51bGwsIm1heCI6bnVsbCwiY3JjMzIiOjMyMjMxMjc2',
  'NzksInBhZ2VzIjpbeyJvZmZzZXQiOjE3NywibGVuZ3RoIjoxNCwiZW5jb2RlZEJ5dGVzIjoxNCwicmF3Qnl0ZXMiOjE0LCJyb3dzIjoyLCJudW',
  'xsQ291bnQiOjAsIm1pbiI6bnVsbCwibWF4IjpudWxsLCJlbmNvZGluZyI6InBsYWluIiwiY3JjMzIiOjI1NzM2OTUzNH0seyJvZmZzZXQiOjE5',
  'MSwibGVuZ3RoIjo5LCJlbmNvZGVkQnl0ZXMiOjgsInJhd0J5dGVzIjo5LCJyb3dzIjoxLCJudWxsQ291bnQiOjEsIm1pbiI6bnVsbCwibWF4Ij',
  'pudWxsLCJlbmNvZGluZyI6InBsYWluIiwiY3JjMzIiOjM4NTkzNTQ3OTgsInZhbGlkaXR5RW5jb2RpbmciOiJwbGFpbiIsInZhbGlkaXR5TGVu',
  'Z3RoIjoxLCJ2YWxpZGl0eUVuY29kZWRCeXRlcyI6MX1dfSx7Im5hbWUiOiJ1dWlkIiwicm9sZSI6ImZpZWxkIiwidHlwZSI6ImZpeGVkX2Jpbm',
  'FyeSg0KSIsIm51bGxhYmxlIjp0cnVlLCJjb2RlYyI6Im5vbmUiLCJvZmZzZXQiOjIwMCwibGVuZ3RoIjoxMywicmF3Qnl0ZXMiOjEzLCJzdG9y',
  'ZWRCeXRlcyI6MTMsIm51bGxDb3VudCI6MSwibWluIjpudWxsLCJtYXgiOm51bGwsImNyYzMyIjoyMDM0OTk5MzY1LCJwYWdlcyI6W3sib2Zmc2',
  'V0IjoyMDAsImxlbmd0aCI6OSwiZW5jb2RlZEJ5dGVzIjo4LCJyYXdCeXRlcyI6OSwicm93cyI6MiwibnVsbENvdW50IjoxLCJtaW4iOm51bGws',
  'Im1heCI6bnVsbCwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIjozNjQ2MTQ1ODQ0LCJ2YWxpZGl0eUVuY29kaW5nIjoicGxhaW4iLCJ2YWxpZG',
  'l0eUxlbmd0aCI6MSwidmFsaWRpdHlFbmNvZGVkQnl0ZXMiOjF9LHsib2Zmc2V0IjoyMDksImxlbmd0aCI6NCwiZW5jb2RlZEJ5dGVzIjo0LCJy',
  'YXdCeXRlcyI6NCwicm93cyI6MSwibnVsbENvdW50IjowLCJtaW4iOm51bGwsIm1heCI6bnVsbCwiZW5jb2RpbmciOiJwbGFpbiIsImNyYzMyIj',
  'o0Mjk0OTY3Mjk1fV19XSwic29ydGVkQnlTZXJpZXMiOmZhbHNlLCJsaW5lYWdlIjpbXSwibWV0YWRhdGEiOnt9fakVAAC02q69AQAAAFFWUjE='
].join('');

describe('golden chunk of the field types beyond the numbers (format v1)', () => {
  const write = () => {
    const columns: Record<string, { encoding: string; validityEncoding?: string }> = Object.fromEntries(TYPED.map((c) => [c.name, { encoding: 'plain', validityEncoding: 'plain' }]));
    columns['time'] = { encoding: 'plain' };
    return writeChunk([typedBatch(TYPED, timesFrom(1000n, 3))], { timeColumn: 'time', tags: [], codec: 'none', pageRows: 2, columns }).bytes;
  };
  test('writing its input reproduces the golden bytes', () => {
    assert.equal(Buffer.from(write()).toString('base64'), GOLDEN_TYPES);
  });
  test('it reads back value by value, with its statistics, and verifies', async () => {
    const reader = await openChunk(bufferSource(new Uint8Array(Buffer.from(GOLDEN_TYPES, 'base64')), 'golden-types.qvr'));
    const batch = await reader.read();
    for (const c of TYPED) assert.deepEqual(keysOf([batch], c.name, c.type), expectedKeys(c), c.type);
    const column = (name: string) => reader.footer.columns.find((c) => c.name === name)!;
    assert.deepEqual([column('d').min, column('d').max], ['-1', '0']);
    assert.deepEqual([column('wide').min, column('wide').max], [String(-(10n ** 38n - 1n)), String(10n ** 38n - 1n)]);
    assert.deepEqual(column('wide').pages.map((p) => p.sum), [String(10n ** 38n - 1n), String(-(10n ** 38n - 1n))]);
    assert.deepEqual(column('dec').pages.map((p) => p.sum), ['-87654', '0']);
    assert.deepEqual([column('bin').min, column('bin').max, column('bin').pages[0]!.sum], [null, null, undefined]);
    assert.equal(column('uuid').type, 'fixed_binary(4)');
    const verified = await reader.verify({ decode: true });
    assert.ok(verified.ok, verified.errors.map((e) => e.message).join('; '));
  });
});
