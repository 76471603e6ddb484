/**
 * What the pure areas (app/xmpp, app/quic outside driver/, app/security outside driver/) may see
 * of Node: buffers, crypto (and WebCrypto), util, URL and events; nothing that reaches the network, the disk,
 * processes, timers or a clock. The tsconfig of those areas has `types: []` and lists this file,
 * so `setTimeout`, `node:net` or `process` there fail the type-check (ESLint says the same).
 */
/// <reference path="../node_modules/@types/node/compatibility/iterators.d.ts" />
/// <reference path="../node_modules/@types/node/globals.typedarray.d.ts" />
/// <reference path="../node_modules/@types/node/buffer.buffer.d.ts" />
/// <reference path="../node_modules/@types/node/buffer.d.ts" />
/// <reference path="../node_modules/@types/node/crypto.d.ts" />
/// <reference path="../node_modules/@types/node/web-globals/crypto.d.ts" />
/// <reference path="../node_modules/@types/node/events.d.ts" />
/// <reference path="../node_modules/@types/node/util.d.ts" />
/// <reference path="../node_modules/@types/node/url.d.ts" />
/// <reference path="../node_modules/@types/node/string_decoder.d.ts" />
