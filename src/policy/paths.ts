import path from 'node:path';

/** Where a profile's policy files live; its sidecars mount this folder read-only at /etc/devkit/policy. */
export function policyDir(workspaceDir: string, profile: string): string {
  return path.join(workspaceDir, '.devkit', 'policy', profile);
}
