import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bufferSource, openChunk, writeChunk } from '../../src/format/index.js';
import { type ColumnSpec, columnValues, makeBatches } from './helpers.js';

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
