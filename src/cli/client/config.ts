// Where the client finds its server and token. The config file holds a bearer token, so it is
// written owner-only and never passes through a moment where others could read it.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from '../usage-error.ts';
import { ClientError } from './errors.ts';

export interface Credentials {
  server: string;
  token: string;
}

type Env = Record<string, string | undefined>;

export function configPath(env: Env = process.env): string {
  return env.VWS_CONFIG || join(homedir(), '.config', 'vws', 'config.json');
}

/** The stored credentials, or null if there is no config file yet. */
export function readConfig(path: string, warn: (message: string) => void = () => undefined): Partial<Credentials> | null {
  if (!existsSync(path)) return null;
  if ((statSync(path).mode & 0o077) !== 0) warn(`${path} can be read by other users; run: chmod 600 ${path}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ClientError(`${path} is not valid JSON (${(e as Error).message}); fix it or run vws login again`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ClientError(`${path} must hold a JSON object {"server": ..., "token": ...}; run vws login again`);
  const { server, token } = parsed as Record<string, unknown>;
  return { ...(typeof server === 'string' ? { server } : {}), ...(typeof token === 'string' ? { token } : {}) };
}

/** Replaces the config file with a new one of mode 0600; a directory it creates gets mode 0700. */
export function writeConfig(path: string, credentials: Credentials): void {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  // 'wx' with the mode: the file is owner-only from its first byte, whatever the umask.
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(credentials, null, 2)}\n`);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** "host:8080/v1/" -> "http://host:8080": the server prints its address with /v1, and people paste it. */
export function normalizeServer(raw: string): string {
  let url = raw.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = `http://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--server must be a URL like http://host:8080, got '${raw}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--server must be an http:// or https:// URL, got '${raw}'`);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`;
}

/** One server, or several servers of one site separated by commas (they share a store; any of them answers). */
export function normalizeServers(raw: string): string {
  return raw.split(',').filter((s) => s.trim() !== '').map(normalizeServer).join(',');
}

/** Flags first, then VWS_SERVER/VWS_TOKEN, then the config file. */
export function resolveCredentials(flags: Partial<Credentials>, env: Env, config: Partial<Credentials> | null): Credentials {
  // An empty value counts as unset, as `VWS_TOKEN= vws ...` means to drop it.
  const server = flags.server || env.VWS_SERVER || config?.server;
  const token = flags.token || env.VWS_TOKEN || config?.token;
  if (!server) throw new UsageError('no server: pass --server URL, set VWS_SERVER, or run vws login --server URL --token T');
  if (!token) throw new UsageError('no token: pass --token T, set VWS_TOKEN, or run vws login --server URL --token T');
  return { server: normalizeServers(server), token };
}
