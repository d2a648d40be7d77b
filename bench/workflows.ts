/**
 * The benchmark's baseline workflow: it does nothing, so starting it and
 * waiting for its result measures Temporal's own floor on this server.
 * Bundled on its own; never part of the production workflow bundle.
 */
export async function empty(): Promise<string> {
  return 'ok';
}
