import type { Api } from './api.js';
import type { Live } from './live.js';
import type { ConnectionInfo } from './types.js';

/** What every view gets: the API, the live stream, the key's power, and page-level services. */
export interface AppContext {
  api: Api;
  live: Live;
  admin: boolean;
  /** GET /credentials, fetched once (the MQTT port and the CA for snippets). */
  connection(): Promise<ConnectionInfo>;
  navigate(hash: string): void;
  /** Says something to screen readers (a polite live region). */
  announce(message: string): void;
  /** Changes the document title (and so what a screen reader says on navigation). */
  title(text: string): void;
}

/** A view draws into `root` and returns what undoes its listeners, timers and charts. */
export type View = (ctx: AppContext, root: HTMLElement, param: string | undefined) => () => void;
