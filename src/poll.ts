import { setTimeout as sleep } from 'node:timers/promises';

/** How long and how often to look again. */
export interface PollOptions {
  /** Give up after this long, counted from the first look. */
  timeoutMs: number;
  /** The first pause; it doubles after each look, up to maxIntervalMs. */
  intervalMs: number;
  maxIntervalMs?: number;
}

/**
 * Looks until `look` returns something other than undefined, or the time is
 * up (then undefined). Every wait for a state devkit does not control (a
 * lock, a process, an engine) goes through here, so each is bounded.
 */
export async function pollUntil<T>(look: () => T | undefined | Promise<T | undefined>, options: PollOptions): Promise<T | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  let pause = options.intervalMs;
  for (;;) {
    const seen = await look();
    if (seen !== undefined) return seen;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(pause, left));
    pause = Math.min(pause * 2, options.maxIntervalMs ?? options.intervalMs);
  }
}

/** A duration from the environment in milliseconds, or the default when unset or malformed. */
export function envMs(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return envNumber(env, name, fallback);
}

/** A non-negative number from environment variable `name` (a count, a size), or `fallback` when unset or not one. */
export function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  const parsed = raw === undefined || raw === '' ? Number.NaN : Number(raw);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : fallback;
}
