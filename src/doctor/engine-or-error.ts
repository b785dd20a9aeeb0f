import { connectEngine, type EngineApi } from '../docker/engine-api.js';

/** The engine, or why it cannot be reached: doctor and gc report a stopped daemon instead of failing. */
export async function engineOrError(env: NodeJS.ProcessEnv): Promise<{ api: EngineApi | null; error: string | null }> {
  try {
    return { api: await connectEngine(env), error: null };
  } catch (error) {
    return { api: null, error: error instanceof Error ? error.message : String(error) };
  }
}
