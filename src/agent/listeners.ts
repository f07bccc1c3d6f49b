import * as v from 'valibot';
import { ConfigError, parseAddress } from '../config/index.ts';
import { parseOrigin } from '../pool/index.ts';
import type { ListenerTarget } from './listener.ts';

export interface ListenerSpec {
  readonly endpoint: string;
  readonly target: ListenerTarget;
}

const ENDPOINT = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;

const listenerSchema = v.strictObject({
  endpoint_id: v.pipe(
    v.string(),
    v.regex(ENDPOINT, 'expected letters, digits and . _ ~ - (at most 128)'),
  ),
  addr: v.union([v.string(), v.number()], 'expected a port, host:port or URL'),
  protocol: v.optional(v.picklist(['http', 'tcp'], 'expected http or tcp'), 'http'),
});

/** A listener from the command line or the config file; errors name the listener. */
export function listenerSpec(
  endpoint: string,
  protocol: 'http' | 'tcp',
  addr: string,
  where = 'listener',
): ListenerSpec {
  if (!ENDPOINT.test(endpoint)) {
    throw new ConfigError(
      `${where}: endpoint ${JSON.stringify(endpoint)} is not a valid endpoint id`,
    );
  }
  if (protocol === 'http') {
    try {
      return { endpoint, target: { protocol, origin: parseOrigin(addr) } };
    } catch (error) {
      throw new ConfigError(`${where}: ${(error as Error).message}`, { cause: error });
    }
  }
  const address = parseAddress(addr, '127.0.0.1');
  if (!address)
    throw new ConfigError(
      `${where}: expected a port or host:port for a tcp upstream, got ${JSON.stringify(addr)}`,
    );
  return { endpoint, target: { protocol, ...address } };
}

/** The `listeners:` list of an agent config file. */
export function listenersFromFile(raw: unknown): ListenerSpec[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError(
      'listeners: expected a non-empty list of { endpoint_id, addr, protocol }',
    );
  }
  return raw.map((item, i) => {
    const result = v.safeParse(listenerSchema, item);
    if (!result.success) {
      const issue = result.issues[0];
      const key = issue?.path?.map((p) => p.key).join('.') ?? '';
      throw new ConfigError(
        `listeners[${i}]${key ? `.${key}` : ''}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const { endpoint_id, addr, protocol } = result.output;
    return listenerSpec(endpoint_id, protocol, String(addr), `listeners[${i}]`);
  });
}
