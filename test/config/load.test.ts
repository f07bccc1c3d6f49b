import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  agentSettings,
  ConfigError,
  envName,
  formatDuration,
  loadConfig,
  parseAddress,
  parseDuration,
  serverSettings,
} from '../../src/config/index.ts';

describe('parseDuration', () => {
  test('parseDuration - units and compounds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('20s'), 20_000);
    assert.equal(parseDuration('15m'), 900_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('1.5s'), 1500);
  });
  test('parseDuration - refuses ambiguous or malformed text', () => {
    for (const bad of ['20', '', 's', '10x', '-5s', '5 s', '1e3s', 'abc', '9'.repeat(40)]) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
  });
  test('formatDuration - round trips', () => {
    for (const ms of [0, 500, 20_000, 900_000, 3_600_000, 1500]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
  });
});

describe('parseAddress', () => {
  test('parseAddress - forms', () => {
    assert.deepEqual(parseAddress(':8000'), { host: '0.0.0.0', port: 8000 });
    assert.deepEqual(parseAddress('8000'), { host: '0.0.0.0', port: 8000 });
    assert.deepEqual(parseAddress('127.0.0.1:1'), { host: '127.0.0.1', port: 1 });
    assert.deepEqual(parseAddress('[::1]:9'), { host: '::1', port: 9 });
    for (const bad of ['', 'host', 'host:', 'host:99999', '::1:80', 'a b:80', 'h:8a']) {
      assert.equal(parseAddress(bad), undefined, bad);
    }
  });
});

describe('loadConfig', () => {
  test('loadConfig - defaults are typed values', () => {
    const { config } = loadConfig(serverSettings, {});
    assert.deepEqual(config['proxy.bind-addr'], { host: '0.0.0.0', port: 8000 });
    assert.equal(config['tunnel.heartbeat-interval'], 20_000);
    assert.equal(config['tunnel.heartbeat-timeout'], 45_000);
    assert.equal(config['proxy.timeout'], 0);
    assert.deepEqual(config['proxy.idle-timeout'], { mode: 'timeout', ms: 620_000 });
    assert.equal(config['upstream.token'], undefined);
  });

  test('loadConfig - flags beat environment beat file beat default', () => {
    const file = {
      path: 't.yaml',
      text: 'proxy:\n  timeout: 3s\n  http_idle_timeout: 1m\ntunnel:\n  heartbeat-interval: 7s\n',
    };
    const env = { TETHER_PROXY_TIMEOUT: '2s', TETHER_TUNNEL_HEARTBEAT_INTERVAL: '5s' };
    const { config } = loadConfig(serverSettings, { flags: { 'proxy.timeout': '1s' }, env, file });
    assert.equal(config['proxy.timeout'], 1000);
    assert.equal(config['tunnel.heartbeat-interval'], 5000);
    assert.equal(config['proxy.http-idle-timeout'], 60_000);
  });

  test('loadConfig - every bad value is named with its source and expectation', () => {
    const file = {
      path: 'bad.yaml',
      text: 'proxy:\n  bind_addr: nope\n  bogus: 1\nnot_a_section: 2\n',
    };
    assert.throws(
      () =>
        loadConfig(serverSettings, {
          flags: { 'proxy.timeout': 'soon' },
          env: { TETHER_LOG_LEVEL: 'loud' },
          file,
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(
          error.message,
          /proxy\.timeout \(from --proxy\.timeout\): expected a duration.*got "soon"/,
        );
        assert.match(
          error.message,
          /log\.level \(from TETHER_LOG_LEVEL\): expected one of debug, info, warn, error, got "loud"/,
        );
        assert.match(error.message, /proxy\.bind-addr \(from bad\.yaml\): expected an address/);
        assert.match(error.message, /proxy\.bogus \(from bad\.yaml\): unknown setting/);
        assert.match(error.message, /not-a-section \(from bad\.yaml\): unknown setting/);
        return true;
      },
    );
  });

  test('loadConfig - keep-alive is three-state and 0 is refused', () => {
    const load = (value: string) =>
      loadConfig(serverSettings, { flags: { 'proxy.idle-timeout': value } }).config;
    assert.deepEqual(load('off')['proxy.idle-timeout'], { mode: 'off' });
    assert.deepEqual(load('none')['proxy.idle-timeout'], { mode: 'forever' });
    assert.deepEqual(load('90s')['proxy.idle-timeout'], { mode: 'timeout', ms: 90_000 });
    assert.throws(() => load('0'), /0 is ambiguous and refused/);
  });

  test('loadConfig - ${VAR} expansion in the file, with defaults, and unset variables refused', () => {
    const text = 'connect:\n  url: ${SERVER}\n  token: ${TOKEN:-dev}\n';
    const { config } = loadConfig(agentSettings, {
      env: { SERVER: 'http://10.0.0.1:8001' },
      file: { path: 'a.yaml', text },
    });
    assert.equal(config['connect.url'], 'http://10.0.0.1:8001');
    assert.equal(config['connect.token'], 'dev');
    assert.throws(
      () => loadConfig(agentSettings, { env: {}, file: { path: 'a.yaml', text } }),
      /SERVER is not set/,
    );
  });

  test('loadConfig - extra file keys are returned raw', () => {
    const text = 'listeners:\n  - endpoint_id: a\n    addr: "3000"\n';
    const { extra } = loadConfig(agentSettings, {
      file: { path: 'a.yaml', text },
      extraFileKeys: ['listeners'],
    });
    assert.deepEqual(extra.listeners, [{ endpoint_id: 'a', addr: '3000' }]);
  });

  test('envName - maps keys to TETHER_ variables', () => {
    assert.equal(envName('proxy.bind-addr'), 'TETHER_PROXY_BIND_ADDR');
    assert.equal(envName('http-client.max-idle-conns'), 'TETHER_HTTP_CLIENT_MAX_IDLE_CONNS');
  });
});
