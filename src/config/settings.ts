import type { Kind } from './kinds.ts';

export interface SettingDef {
  readonly kind: Kind;
  /** As a user writes it (flag/env/YAML); undefined = unset unless given. */
  readonly default?: string;
  readonly help: string;
}

export type SettingsDef = Readonly<Record<string, SettingDef>>;

const duration = { type: 'duration' } as const;
const address = { type: 'address' } as const;

const log = {
  'log.level': {
    kind: { type: 'enum', values: ['debug', 'info', 'warn', 'error'] },
    default: 'info',
    help: 'Minimum level logged',
  },
  'log.format': {
    kind: { type: 'enum', values: ['text', 'json'] },
    default: 'text',
    help: 'text for people (no colours unless a terminal), json for log shippers',
  },
} as const satisfies SettingsDef;

const tunnel = {
  'tunnel.heartbeat-interval': {
    kind: duration,
    default: '20s',
    help: 'Send a yamux Ping this often on every tunnel, so middleboxes never see it idle',
  },
  'tunnel.heartbeat-timeout': {
    kind: duration,
    default: '45s',
    help: 'No inbound frame of any kind for this long means the peer is dead',
  },
} as const satisfies SettingsDef;

/** `tether server`. Names follow Piko's where Piko has one. */
export const serverSettings = {
  'proxy.bind-addr': {
    kind: address,
    default: ':8000',
    help: 'Where clients connect (HTTP, WebSocket, TCP over WebSocket)',
  },
  'upstream.bind-addr': { kind: address, default: ':8001', help: 'Where agents connect' },
  'admin.bind-addr': {
    kind: address,
    default: ':8002',
    help: 'Health, readiness, status and drain endpoints',
  },
  'proxy.timeout': {
    kind: duration,
    default: '0',
    help: 'Time to the response head for plain HTTP requests; 0 = off. Never applies to WebSocket or TCP',
  },
  'proxy.idle-timeout': {
    kind: { type: 'keep-alive' },
    default: '620s',
    help: "Idle keep-alive time for client connections, advertised in Keep-Alive; 'off' closes after each response, 'none' never closes idle connections",
  },
  'proxy.read-header-timeout': {
    kind: duration,
    default: '30s',
    help: 'Once a request head starts arriving it must be complete within this time, else 408 (slow-head clients); 0 = off. Never applies to bodies or responses',
  },
  'proxy.http-idle-timeout': {
    kind: duration,
    default: '15m',
    help: 'A plain HTTP exchange with no bytes either way for this long is cut; 0 = off',
  },
  'proxy.upgrade-idle-timeout': {
    kind: duration,
    default: '1h',
    help: 'An upgraded WebSocket or TCP stream with no bytes either way for this long is cut; 0 = off',
  },
  'upstream.token': {
    kind: { type: 'secret' },
    help: 'Static token agents must present (Authorization: Bearer). Unset = no authentication',
  },
  ...tunnel,
  'drain.quiet-period': {
    kind: duration,
    default: '15s',
    help: 'On drain, keep serving this long after the last new request so load balancers notice',
  },
  'drain.quiet-period-max': {
    kind: duration,
    default: '45s',
    help: 'Upper bound of the quiet period, however many requests keep arriving',
  },
  'drain.grace-period': {
    kind: duration,
    default: '300s',
    help: 'On drain, how long in-flight requests and streams may take to finish',
  },
  ...log,
} as const satisfies SettingsDef;

const connect = {
  'connect.token': {
    kind: { type: 'secret' },
    help: 'Token sent as Authorization: Bearer',
  },
  'connect.tls.root-cas': {
    kind: { type: 'string' },
    help: 'PEM file of CA certificates to trust for https/wss connect URLs',
  },
} as const satisfies SettingsDef;

/** `tether agent`. */
export const agentSettings = {
  'connect.url': {
    kind: { type: 'url' },
    default: 'http://localhost:8001',
    help: "The server's upstream port",
  },
  ...connect,
  'connect.transport': {
    kind: { type: 'enum', values: ['auto', 'websocket'] },
    default: 'auto',
    help: 'auto offers tether-yamux/1 (yamux without WebSocket framing) and uses WebSocket when the server picks it or refuses the offer; websocket offers only WebSocket, for proxies that pass nothing else',
  },
  ...tunnel,
  'http-client.idle-conn-timeout': {
    kind: duration,
    default: '4s',
    help: 'Drop a pooled upstream connection idle this long when the upstream advertised no Keep-Alive timeout',
  },
  'http-client.max-idle-conns': {
    kind: { type: 'int', min: 0, max: 100_000 },
    default: '1024',
    help: 'Idle connections kept per upstream; keep it above the concurrent requests one upstream sees, or connections are closed and reopened under load',
  },
  'http-client.max-conns': {
    kind: { type: 'int', min: 1, max: 1_000_000 },
    default: '16384',
    help: 'Connections open at once per upstream; further requests queue (up to 65536)',
  },
  'http-client.dial-timeout': {
    kind: duration,
    default: '10s',
    help: 'Time allowed to open a TCP/TLS connection to the upstream (not the request)',
  },
  'admin.bind-addr': {
    kind: { type: 'optional-address' },
    default: 'off',
    help: 'Expose health and drain endpoints for this agent (off by default)',
  },
  'drain.grace-period': {
    kind: duration,
    default: '300s',
    help: 'On drain, how long in-flight streams may take to finish',
  },
  ...log,
} as const satisfies SettingsDef;

/** `tether forward`. */
export const forwardSettings = {
  'connect.url': {
    kind: { type: 'url' },
    default: 'http://localhost:8000',
    help: "The server's proxy port",
  },
  ...connect,
  ...log,
} as const satisfies SettingsDef;
