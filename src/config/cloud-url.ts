/** URL schemes mqtt.js connects with (TCP, TLS, WebSocket). */
export const CLOUD_PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ssl:', 'ws:', 'wss:'] as const;

/** Why a cloud.url cannot be used, or undefined when it can (an empty url means no uplink and is fine). */
export function cloudUrlProblem(url: string): string | undefined {
  if (url === '') return undefined;
  let u: URL;
  try { u = new URL(url); } catch { return 'must be a URL such as mqtts://mqtt.example.com:8883'; }
  if (!(CLOUD_PROTOCOLS as readonly string[]).includes(u.protocol)) return `unsupported scheme ${u.protocol} (use one of ${CLOUD_PROTOCOLS.join(' ')})`;
  if (!u.hostname) return 'has no host';
  return undefined;
}
