import type { Duplex, Readable } from 'node:stream';
import { debugSwallow } from '../debug.js';
import { DevkitError, oneLine } from '../errors.js';
import { AnswerTooLargeError, engineRequest, engineStream, engineUpgrade, type EngineHttpResponse } from './engine-http.js';
import { DEFAULT_CONTEXT, describeEndpoint, resolveEndpoint, type EngineEndpoint } from './endpoint.js';

/**
 * The small JSON calls of the Docker Engine API, over a connection to the
 * engine the docker CLI would use (endpoint.ts, engine-http.ts). exec-cd and up are measured against `docker exec` and
 * `docker compose up`; importing dockerode alone costs more than a whole
 * `docker exec` here (about 170 ms), so these paths speak the API without it.
 * dockerode is loaded only for what streams: building, importing and pulling
 * images (docker/images.ts).
 */
const API = '/v1.41'; // Docker 20.10; later engines serve it too

export interface ContainerSummary {
  Id: string;
  Names?: string[];
  State: string;
  Status?: string;
  Labels: Record<string, string>;
}

export interface ExecSpec {
  Cmd: string[];
  Env: string[];
  WorkingDir: string;
  /** uid:gid to run as; unset, the container's user. */
  User?: string;
  Tty: boolean;
  AttachStdin: boolean;
  AttachStdout: true;
  AttachStderr: true;
}

/** The parts of POST /containers/create devkit sets for its own short-lived helpers. */
export interface ContainerSpec {
  Image: string;
  Cmd: string[];
  User: string;
  Labels: Record<string, string>;
  HostConfig: {
    Init: boolean;
    NetworkMode: 'none';
    CapDrop: ['ALL'];
    CapAdd: string[];
    SecurityOpt: ['no-new-privileges'];
    Mounts: Array<{ Type: 'volume'; Source: string; Target: string; ReadOnly?: boolean }>;
  };
}

export interface ExecState {
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
}

/**
 * The engine's multiplexed stream for non-TTY output: frames of an 8-byte
 * header (stream type, then a big-endian length) and their payload. Returns
 * the whole frames in `buffer` and what is left of a partial one.
 */
export function splitFrames(buffer: Buffer): { frames: Array<{ stream: number; payload: Buffer }>; rest: Buffer } {
  const frames: Array<{ stream: number; payload: Buffer }> = [];
  let offset = 0;
  while (buffer.length - offset >= 8) {
    const size = buffer.readUInt32BE(offset + 4);
    if (buffer.length - offset < 8 + size) break;
    frames.push({ stream: buffer[offset] ?? 1, payload: buffer.subarray(offset + 8, offset + 8 + size) });
    offset += 8 + size;
  }
  return { frames, rest: buffer.subarray(offset) };
}

/** The engine's refusal as one line: its own message, and the call it refused. */
function refusal(call: string, response: EngineHttpResponse): DevkitError {
  const text = response.body.toString('utf8');
  let message = text;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    // not JSON: the text as it is
  }
  return new DevkitError(`docker engine: ${message.trim()} (${call} -> ${response.status})`);
}

/** A JSON body; empty is undefined, and text that is not JSON (/_ping's OK) is returned as it is. */
function parseBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** All of a stream, up to `limit` bytes (past it, an AnswerTooLargeError). */
async function readAll(stream: Readable, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      throw new AnswerTooLargeError('body', limit);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** What the engine's JSON message stream (image load, build) said: its "stream" lines, and its error if any. */
export function readMessages(text: string): { lines: string[]; error: string | null } {
  const lines: string[] = [];
  let error: string | null = null;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let message: { stream?: string; error?: string; errorDetail?: { message?: string } };
    try {
      message = JSON.parse(raw) as typeof message;
    } catch {
      lines.push(raw.trim());
      continue;
    }
    if (message.stream !== undefined && message.stream.trim() !== '') lines.push(message.stream.trim());
    const failed = message.errorDetail?.message ?? message.error;
    if (failed !== undefined) error = failed;
  }
  return { lines, error };
}

/** An image reference's repository and tag (devkit/dev:local, host:5000/x:y; no tag is latest). */
export function splitTag(reference: string): { repo: string; tag: string } {
  const colon = reference.lastIndexOf(':');
  if (colon < 0 || colon < reference.lastIndexOf('/')) return { repo: reference, tag: 'latest' };
  return { repo: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}

/** An engine that gave no answer: `reason` names it and why, the message adds the fix. */
export class EngineUnreachable extends DevkitError {
  constructor(
    readonly reason: string,
    fix: string,
    cause: unknown,
  ) {
    super(`${reason}: ${fix}`, { cause });
  }
}

/** Why an engine failed, as one line without a fix to append one's own: an unreachable engine's reason, else the message. */
export function engineFailure(error: unknown): string {
  if (error instanceof EngineUnreachable) return error.reason;
  return oneLine(error instanceof Error ? error.message : String(error));
}

/** The engine client for this environment (endpoint.ts), not yet asked anything (exec-cd's fast path). */
export function engineClient(env: NodeJS.ProcessEnv): EngineApi {
  return new EngineApi(resolveEndpoint(env));
}

/** The engine client, checked to answer: one clear line when it does not. */
export function connectEngine(env: NodeJS.ProcessEnv): Promise<EngineApi> {
  return connectEndpoint(resolveEndpoint(env));
}

/** The client of one engine (an agent's, remote/placement.ts), checked to answer. */
export async function connectEndpoint(endpoint: EngineEndpoint): Promise<EngineApi> {
  const api = new EngineApi(endpoint);
  await api.ping();
  return api;
}

export class EngineApi {
  constructor(readonly endpoint: EngineEndpoint) {}

  /** A connection error (no engine, no answer in time) as one line with the fix. */
  private unreachable(error: unknown): DevkitError {
    const message = error instanceof Error ? error.message : String(error);
    const fix =
      this.endpoint.kind === 'unix' && this.endpoint.context === DEFAULT_CONTEXT
        ? 'start dockerd (scripts/docker-engine.sh start) or set DOCKER_HOST'
        : 'start that engine, or choose another with DOCKER_HOST, DOCKER_CONTEXT or docker context use';
    return new EngineUnreachable(`cannot reach the Docker engine at ${describeEndpoint(this.endpoint)} (${message})`, fix, error);
  }

  /** Why `call` got no answer, as one line: an answer too large to read, or else an engine out of reach. */
  private failure(call: string, error: unknown): DevkitError {
    if (error instanceof AnswerTooLargeError) return new DevkitError(`${error.message} (${call})`, { cause: error });
    return this.unreachable(error);
  }

  /** One request and the engine's answer, whatever its status; `timeoutMs` bounds the wait. */
  private async exchange(method: string, path: string, options: { body?: unknown; timeoutMs?: number } = {}): Promise<EngineHttpResponse> {
    const json = options.body === undefined ? undefined : JSON.stringify(options.body);
    try {
      return await engineRequest(this.endpoint, { method, path: `${API}${path}`, json, timeoutMs: options.timeoutMs });
    } catch (error) {
      throw this.failure(`${method} ${path}`, error);
    }
  }

  /** One request's body; a non-2xx answer becomes a DevkitError carrying the engine's message. */
  private async send(method: string, path: string, options: { body?: unknown; timeoutMs?: number } = {}): Promise<Buffer> {
    const response = await this.exchange(method, path, options);
    if (response.status >= 300) throw refusal(`${method} ${path}`, response);
    return response.body;
  }

  /** One JSON request (see send). */
  async request<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    return parseBody(await this.send(method, path, { body, timeoutMs })) as T;
  }

  /** One JSON GET of an object the engine may not have: null when it answers 404. */
  private async inspect<T>(path: string): Promise<T | null> {
    const response = await this.exchange('GET', path);
    if (response.status === 404) return null;
    if (response.status >= 300) throw refusal(`GET ${path}`, response);
    return parseBody(response.body) as T;
  }

  /** One container by name or id, in the shape listContainers returns; null when there is none. */
  async findContainer(name: string): Promise<ContainerSummary | null> {
    const info = await this.inspect<{ Id: string; State: { Status: string }; Config: { Labels: Record<string, string> | null } }>(
      `/containers/${encodeURIComponent(name)}/json`,
    );
    return info === null ? null : { Id: info.Id, State: info.State.Status, Labels: info.Config.Labels ?? {} };
  }

  async version(): Promise<{ Version: string; ApiVersion: string }> {
    return this.request('GET', '/version');
  }

  async ping(): Promise<void> {
    await this.request('GET', '/_ping');
  }

  /** An image's id and labels; null when there is no such image. */
  async inspectImage(name: string): Promise<{ id: string; labels: Record<string, string> } | null> {
    const info = await this.inspect<{ Id: string; Config: { Labels: Record<string, string> | null } | null }>(
      `/images/${encodeURIComponent(name)}/json`,
    );
    return info === null ? null : { id: info.Id, labels: info.Config?.Labels ?? {} };
  }

  /** An answer streamed, not read whole; a refusal (small) is read and becomes the engine's own line. */
  private async stream(method: string, path: string, options: { body?: Readable; headers?: readonly string[] } = {}): Promise<Readable> {
    let answer: { status: number; body: Readable };
    try {
      answer = await engineStream(this.endpoint, { method, path: `${API}${path}`, ...options });
    } catch (error) {
      throw this.failure(`${method} ${path}`, error);
    }
    if (answer.status >= 300) throw refusal(`${method} ${path}`, { status: answer.status, body: await readAll(answer.body, 64 * 1024) });
    return answer.body;
  }

  /** The tar `docker save` makes of these images: each layer once, however many of them share it. */
  exportImages(names: readonly string[]): Promise<Readable> {
    return this.stream('GET', `/images/get?${names.map((name) => `names=${encodeURIComponent(name)}`).join('&')}`);
  }

  /** Loads a tar of images, as `docker load`; resolves with the engine's lines (Loaded image: ...); its error throws. */
  async loadImages(tar: Readable): Promise<string[]> {
    const answer = await this.stream('POST', '/images/load?quiet=1', { body: tar });
    const { lines, error } = readMessages((await readAll(answer, 1024 * 1024)).toString('utf8'));
    if (error !== null) throw new DevkitError(`docker engine: ${error.trim()} (POST /images/load)`);
    return lines;
  }

  /** Gives an image another name (repo:tag), as `docker tag`. */
  async tagImage(image: string, reference: string): Promise<void> {
    const { repo, tag } = splitTag(reference);
    await this.request('POST', `/images/${encodeURIComponent(image)}/tag?repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`);
  }

  /**
   * Pushes repo:tag to its registry, as `docker push`; `auth` is the
   * X-Registry-Auth value (registry-auth.ts). The answer is the engine's
   * JSON progress messages: a failure is one of them, not an HTTP status.
   */
  pushImage(reference: string, auth: string): Promise<Readable> {
    const { repo, tag } = splitTag(reference);
    return this.stream('POST', `/images/${encodeURIComponent(repo)}/push?tag=${encodeURIComponent(tag)}`, {
      headers: [`X-Registry-Auth: ${auth}`],
    });
  }

  /** Pulls repo:tag from its registry, as `docker pull`; answers as pushImage does. */
  pullImage(reference: string, auth: string): Promise<Readable> {
    const { repo, tag } = splitTag(reference);
    return this.stream('POST', `/images/create?fromImage=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`, {
      headers: [`X-Registry-Auth: ${auth}`],
    });
  }

  /** Takes one name off an image, as `docker rmi NAME`: the image stays while another name holds it. */
  async untagImage(reference: string): Promise<void> {
    await this.request('DELETE', `/images/${encodeURIComponent(reference)}?noprune=1`);
  }

  /** Whether the engine has a network of this name (or id). */
  async hasNetwork(name: string): Promise<boolean> {
    return (await this.inspect<{ Id: string }>(`/networks/${encodeURIComponent(name)}`)) !== null;
  }

  /** Creates a named volume; the engine answers with the existing one when it is there already. */
  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.request('POST', '/volumes/create', { Name: name, Labels: labels });
  }

  /** Volumes carrying every label given (`key` or `key=value`). */
  async listVolumes(labels: readonly string[]): Promise<Array<{ Name: string; Labels: Record<string, string> | null }>> {
    const filters = encodeURIComponent(JSON.stringify({ label: labels }));
    return (
      (
        await this.request<{ Volumes: Array<{ Name: string; Labels: Record<string, string> | null }> | null }>(
          'GET',
          `/volumes?filters=${filters}`,
        )
      ).Volumes ?? []
    );
  }

  /** A volume's creation time and labels, or null when the engine has no volume of that name. */
  async inspectVolume(name: string): Promise<{ Name: string; CreatedAt: string; Labels: Record<string, string> | null } | null> {
    return this.inspect(`/volumes/${encodeURIComponent(name)}`);
  }

  async removeVolume(name: string): Promise<void> {
    await this.request('DELETE', `/volumes/${encodeURIComponent(name)}`);
  }

  /** Creates and starts a container (the Engine API's create body); returns its id. */
  async runContainer(body: ContainerSpec): Promise<string> {
    const { Id } = await this.request<{ Id: string }>('POST', '/containers/create', body);
    try {
      await this.request('POST', `/containers/${Id}/start`);
    } catch (error) {
      await this.removeContainer(Id).catch(debugSwallow(`removing container ${Id.slice(0, 12)}`));
      throw error;
    }
    return Id;
  }

  async removeContainer(id: string): Promise<void> {
    await this.request('DELETE', `/containers/${id}?force=1`);
  }

  /** Networks carrying every label given (`key=value`). */
  async listNetworks(labels: readonly string[]): Promise<Array<{ Id: string; Name: string }>> {
    const filters = encodeURIComponent(JSON.stringify({ label: labels }));
    return this.request('GET', `/networks?filters=${filters}`);
  }

  async removeNetwork(id: string): Promise<void> {
    await this.request('DELETE', `/networks/${id}`);
  }

  async killContainer(id: string, signal: string): Promise<void> {
    await this.request('POST', `/containers/${id}/kill?signal=${encodeURIComponent(signal)}`);
  }

  /** Host ports running containers publish, each with its container's compose project (null: none). */
  async publishedPorts(): Promise<Array<{ port: number; project: string | null }>> {
    const containers = await this.request<Array<{ Ports?: Array<{ PublicPort?: number }>; Labels: Record<string, string> | null }>>(
      'GET',
      '/containers/json',
    );
    return containers.flatMap((c) =>
      (c.Ports ?? [])
        .map((p) => p.PublicPort)
        .filter((port): port is number => port !== undefined)
        .map((port) => ({ port, project: c.Labels?.['com.docker.compose.project'] ?? null })),
    );
  }

  /** The subnets of every network on the engine, by network name. */
  async networkSubnets(): Promise<Array<{ name: string; subnets: string[] }>> {
    const networks = await this.request<Array<{ Name: string; IPAM?: { Config?: Array<{ Subnet?: string }> | null } }>>('GET', '/networks');
    return networks.map((n) => ({ name: n.Name, subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? '').filter(Boolean) }));
  }

  /** The last lines a container logged, stdout and stderr together, as text. */
  async containerLogs(id: string, tail: number): Promise<string> {
    const raw = await this.send('GET', `/containers/${id}/logs?stdout=1&stderr=1&tail=${tail}`);
    return splitFrames(raw)
      .frames.map((frame) => frame.payload.toString('utf8'))
      .join('');
  }

  /** The container's exec sessions that still run (the engine drops an exec from the list when it ends). */
  async liveExecs(id: string): Promise<string[]> {
    const info = await this.request<{ ExecIDs: string[] | null }>('GET', `/containers/${id}/json`);
    return info.ExecIDs ?? [];
  }

  async containerStartedAt(id: string): Promise<string | null> {
    const info = await this.request<{ State: { StartedAt?: string } }>('GET', `/containers/${id}/json`);
    return info.State.StartedAt ?? null;
  }

  /** Bytes used by each compose project's own volumes, by project name (only asks the engine for sizes when there are any). */
  projectVolumeSizes(): Promise<Map<string, number>> {
    return this.volumeSizes('com.docker.compose.project');
  }

  /**
   * Bytes in volumes carrying label `by` (and every label of `where`),
   * summed by that label's value. The engine measures them only when some
   * exist: /system/df walks every volume.
   */
  async volumeSizes(by: string, where: readonly string[] = []): Promise<Map<string, number>> {
    const filters = encodeURIComponent(JSON.stringify({ label: [by, ...where] }));
    const listed = await this.request<{ Volumes: Array<{ Name: string }> | null }>('GET', `/volumes?filters=${filters}`);
    const sizes = new Map<string, number>();
    const names = new Set((listed.Volumes ?? []).map((volume) => volume.Name));
    if (names.size === 0) return sizes;
    const df = await this.request<{
      Volumes: Array<{ Name: string; Labels: Record<string, string> | null; UsageData?: { Size: number } }> | null;
    }>('GET', '/system/df');
    for (const volume of df.Volumes ?? []) {
      const key = volume.Labels?.[by];
      if (key !== undefined && names.has(volume.Name)) sizes.set(key, (sizes.get(key) ?? 0) + Math.max(0, volume.UsageData?.Size ?? 0));
    }
    return sizes;
  }

  listContainers(labels: readonly string[]): Promise<ContainerSummary[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: labels }));
    return this.request('GET', `/containers/json?all=1&filters=${filters}`);
  }

  async createExec(containerId: string, spec: ExecSpec): Promise<string> {
    return (await this.request<{ Id: string }>('POST', `/containers/${containerId}/exec`, spec)).Id;
  }

  /** Starts an exec and hands back the raw, hijacked connection to its stdio, paused: resume it once it is wired. */
  async startExec(execId: string, tty: boolean): Promise<Duplex> {
    const path = `/exec/${execId}/start`;
    let answer: Duplex | EngineHttpResponse;
    try {
      answer = await engineUpgrade(this.endpoint, {
        method: 'POST',
        path: `${API}${path}`,
        json: JSON.stringify({ Detach: false, Tty: tty }),
      });
    } catch (error) {
      throw this.failure(`POST ${path}`, error);
    }
    if ('status' in answer) throw refusal(`POST ${path}`, answer);
    return answer;
  }

  inspectExec(execId: string, timeoutMs?: number): Promise<ExecState> {
    return this.request('GET', `/exec/${execId}/json`, undefined, timeoutMs);
  }

  async resizeExec(execId: string, rows: number, columns: number): Promise<void> {
    // The process may have ended.
    await this.request('POST', `/exec/${execId}/resize?h=${rows}&w=${columns}`).catch(debugSwallow(`resizing exec ${execId.slice(0, 12)}`));
  }
}
