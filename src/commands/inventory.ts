import { Flags } from '@oclif/core';
import type { Finding } from '../actions/define.js';
import { CicdIrError, UsageError } from '../engine/errors.js';
import { BaseCommand } from '../ui/base-command.js';
import type { InventoryItem } from '../engine/evidence.js';
import { buildInventory } from '../github/inventory.js';
import { inventoryTable, workflowUsesTable } from '../github/inventory-table.js';
import { findWorkflowUses, type WorkflowUse } from '../github/workflow-uses.js';
import { createClients } from '../providers/index.js';

export type InventoryOutput =
  | { repos: Array<{ repo: string; items: InventoryItem[]; findings: Finding[] }> }
  | { org: string; pattern: string; matches: WorkflowUse[] };

export default class Inventory extends BaseCommand {
  static override summary = 'Show what a workflow can reach (secrets, tokens, OIDC subjects) and how to rotate each.';
  static override description = `Reads workflow files and resolves every secret they reach against the repository, its
environments and the organization secrets visible to it; follows secrets: inherit through
reusable workflows; lists the OIDC subjects of id-token: write jobs. Each row also says what
the credential opens (aws:<account>, npm:<registry>, github:<org>) and who rotates it (from
.github/cicd-ir-owners.yml, else the CODEOWNERS entry of the workflow file). Read-only: the
GitHub client refuses any write. With --org and --workflow-uses, finds the workflows of an
organization that use an action instead.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --repo acme/web --workflow deploy.yml',
    '<%= config.bin %> <%= command.id %> --repo acme/web --repo acme/api --json',
    "<%= config.bin %> <%= command.id %> --org acme --workflow-uses 'tj-actions/changed-files@*'",
  ];


  static override flags = {
    repo: Flags.string({ description: 'repository owner/name (repeatable)', multiple: true, exactlyOne: ['repo', 'org'] }),
    workflow: Flags.string({ description: 'one workflow (file name, path or id); default: every workflow', dependsOn: ['repo'] }),
    org: Flags.string({ description: 'organization to scan (with --workflow-uses)', dependsOn: ['workflow-uses'] }),
    'workflow-uses': Flags.string({ description: "action pattern, e.g. 'tj-actions/changed-files@*'", dependsOn: ['org'] }),
    'github-api-url': Flags.string({ description: 'GitHub API URL (GHES: https://HOST/api/v3)', env: 'GITHUB_API_URL' }),
  };

  async run(): Promise<InventoryOutput> {
    const { flags } = await this.parse(Inventory);
    // Read-only command: the dry-run guard makes any write a bug, not an accident.
    const clients = createClients({
      dryRun: true,
      incident: 'inventory',
      github: { ...(flags['github-api-url'] ? { apiUrl: flags['github-api-url'] } : {}) },
      aws: {},
    });
    try {
      const github = await clients.github();
      if (flags.org) {
        const matches = await findWorkflowUses(github, { org: flags.org, pattern: flags['workflow-uses']! });
        if (!this.jsonEnabled()) this.log(workflowUsesTable(matches));
        return { org: flags.org, pattern: flags['workflow-uses']!, matches };
      }
      const repos = [];
      for (const repo of flags.repo ?? []) {
        const result = await buildInventory(github, { repo, ...(flags.workflow ? { workflow: flags.workflow } : {}) });
        repos.push({ repo, items: result.items, findings: result.findings });
        if (!this.jsonEnabled()) {
          this.log(`${repo}${flags.workflow ? ` ${flags.workflow}` : ''}\n${inventoryTable(result.items)}\n`);
          for (const finding of result.findings) this.logToStderr(`${finding.severity}: ${finding.summary}`);
        }
      }
      return { repos };
    } catch (error) {
      if (error instanceof CicdIrError) throw error;
      const status = (error as { status?: unknown }).status;
      // A repository or organization the token cannot see, or a bad token: the input is wrong.
      if (status === 401 || status === 404) throw new UsageError(`GitHub answered ${status}: ${(error as Error).message}`, ['check the repository name and that the token can read it']);
      throw error;
    }
  }
}
