/**
 * `tether server`: the proxy port (clients), the upstream port (agents) and the admin
 * port, with the endpoint registry and the proxy handler between them.
 *
 * @module
 */
export { AgentUpstream } from './agent-upstream.ts';
export { endpointFromRequest, isValidEndpointId } from './endpoint.ts';
export { Registry } from './registry.ts';
export { type ServerConfig, type ServerHandle, startServer } from './server.ts';
