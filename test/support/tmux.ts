import { execa } from 'execa';

export const tmux = (args: string[]) => execa('tmux', args, { reject: false });

/** Polls a tmux pane until it shows `pattern`; throws with what it shows instead. */
export async function paneShows(target: string, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let screen = '';
  while (Date.now() < deadline) {
    screen = (await tmux(['capture-pane', '-p', '-t', target])).stdout;
    if (pattern.test(screen)) return screen;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${target} never showed ${pattern}; it shows:\n${screen}`);
}
