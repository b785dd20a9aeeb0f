/**
 * Whose files an agent's are. Containers run as the host user, so what an
 * agent writes in its copy is the user's; but no agent runs as root: when
 * devkit itself runs as root, agents run as AGENT_UID_FOR_ROOT, and their
 * copies and HOMEs belong to that uid on the host. A setuid file an agent
 * makes is then setuid to that uid, never to root.
 */
export interface Owner {
  uid: number;
  gid: number;
}

export const AGENT_UID_FOR_ROOT = 10000;

/** The host user running devkit. */
export function hostUser(): Owner {
  return { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
}

/** The uid:gid agents run as, and own their copies and HOMEs as. */
export function agentOwner(): Owner {
  const host = hostUser();
  return host.uid === 0 ? { uid: AGENT_UID_FOR_ROOT, gid: AGENT_UID_FOR_ROOT } : host;
}

/** The owner devkit must give the agent files it makes, or null when they are its own already. */
export function ownerToSet(): Owner | null {
  const agent = agentOwner();
  const host = hostUser();
  return agent.uid === host.uid && agent.gid === host.gid ? null : agent;
}
