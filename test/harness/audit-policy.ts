// An audit policy for measuring one client: every request of the named users
// at level Metadata (who, verb, resource, when; no bodies), optionally the
// creation of named resources by anyone (to time them), nothing else. The
// RequestReceived stage is omitted, so each request is logged once when it
// completes (a watch also once when its response starts).
import { writeFile } from 'node:fs/promises';

export interface AuditPolicyOptions {
  /** User names whose every request is logged, e.g. the operator's client certificate CN. */
  users: string[];
  /** Resources whose creation is logged whoever creates them, e.g. {group: 'canary-operator.dev', resource: 'canaryreleases'}. */
  creates?: { group: string; resource: string }[];
}

interface PolicyRule {
  level: 'None' | 'Metadata';
  users?: string[];
  verbs?: string[];
  resources?: { group: string; resources: string[] }[];
}

export interface AuditPolicy {
  apiVersion: 'audit.k8s.io/v1';
  kind: 'Policy';
  omitStages: string[];
  rules: PolicyRule[];
}

export function auditPolicy(opts: AuditPolicyOptions): AuditPolicy {
  if (opts.users.length === 0) throw new Error('audit policy: at least one user is required');
  const rules: PolicyRule[] = [{ level: 'Metadata', users: [...opts.users] }];
  for (const c of opts.creates ?? []) rules.push({ level: 'Metadata', verbs: ['create'], resources: [{ group: c.group, resources: [c.resource] }] });
  // The apiserver's default for requests no rule matches would be no audit too; said explicitly.
  rules.push({ level: 'None' });
  return { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'], rules };
}

/** Writes the policy as JSON (valid YAML for --audit-policy-file). */
export async function writeAuditPolicy(path: string, policy: AuditPolicy): Promise<void> {
  await writeFile(path, `${JSON.stringify(policy, null, 2)}\n`);
}
