/**
 * `tether agent`: dials out to the server, keeps one tunnel per endpoint alive, and
 * serves the streams the server opens from local HTTP or TCP services.
 *
 * @module
 */
export { type AgentConfig, type AgentHandle, startAgent } from './agent.ts';
export { Backoff } from './backoff.ts';
export { AgentListener, FatalConnectError, type ListenerTarget } from './listener.ts';
export { type ListenerSpec, listenerSpec, listenersFromFile } from './listeners.ts';
