// `GET /mqtt/events?hb=<ms>`: the heartbeat a reader asks for (the plugin asks 500 ms, so that
// it distrusts its cache within 1.5 beats of a stream gone quiet: issue 29 item 2). Faster
// than EVENTS_HEARTBEAT_MS only: that setting is the slowest beat any stream gets; the
// fastest is 100 ms. Without `hb`, or with one that does not parse, EVENTS_HEARTBEAT_MS.
export const MIN_HEARTBEAT_MS = 100;

export function requestedHeartbeatMs(url: string | undefined, configuredMs: number): number {
  const q = url?.indexOf('?') ?? -1;
  if (!url || q === -1) return configuredMs;
  const raw = new URLSearchParams(url.slice(q + 1)).get('hb');
  if (raw === null || !/^\d{1,6}$/.test(raw)) return configuredMs;
  return Math.min(configuredMs, Math.max(MIN_HEARTBEAT_MS, Number(raw)));
}
