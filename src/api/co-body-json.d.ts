/**
 * co-body's JSON reader on its own (body.ts imports it rather than the package's index, which also
 * loads the form reader and with it qs and its dependencies: ~0.4 MB of heap the API never uses).
 */
declare module 'co-body/lib/json.js' {
  import type { Context, Options } from 'co-body';

  function json(context: Context, options?: Options): Promise<unknown>;
  export default json;
}
