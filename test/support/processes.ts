import { readdirSync, readFileSync } from 'node:fs';

/** Polls this machine's processes (containers' included) until one runs exactly `args`; throws after the timeout. */
export async function processRuns(args: readonly string[], timeoutMs = 20_000): Promise<number> {
  const wanted = `${args.join('\0')}\0`;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8') === wanted) return Number(pid);
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no process ran ${args.join(' ')} within ${timeoutMs} ms`);
}
