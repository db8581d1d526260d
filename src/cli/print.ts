import type { ProjectWithSecrets } from '../services/project.service.js';

/** Printed once, on the start that created the default project: the operator needs these keys. */
export function printBootstrapKeys({ project, secrets }: ProjectWithSecrets): void {
  const lines = [
    '',
    `  Created project "${project.name}"`,
    `    public key: ${project.publicKey}`,
    ...secrets.map((s) => `    secret key: ${s.secret}`),
    '',
    '  Keep the secret key private. Show it again with: npx trove projects list --show-secrets',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function formatProjects(list: ProjectWithSecrets[], showSecrets: boolean): string {
  if (list.length === 0) return 'No projects yet. Create one with: trove projects create --name "My site"\n';
  const out: string[] = [];
  for (const { project, secrets } of list) {
    out.push(`${project.name}`);
    out.push(`  public key:     ${project.publicKey}`);
    out.push(`  auto store:     ${project.autoStore ? 'on' : 'off'}`);
    out.push(`  signed uploads: ${project.signedUploads ? 'required' : 'optional'}`);
    out.push(`  max file size:  ${project.maxFileSize ?? 'server limit'}`);
    out.push(`  allowed types:  ${project.allowedMimeTypes?.join(', ') ?? 'any'}`);
    for (const s of secrets) {
      out.push(`  secret key:     ${showSecrets ? s.secret : `${s.secret.slice(0, 4)}…`} (id ${s.id}, created ${s.createdAt})`);
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
