import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../helpers/shared-data.js';
import { startLab } from './github-harness.js';

describe('GitHub lab with the real workflow files of ../shared/data/workflows', () => {
  it('serves every file byte for byte through the contents API, named as GitHub names them', async () => {
    // Given one lab repo per shared folder, each workflow referenced as `file:` next to the scenario
    const root = sharedData('workflows');
    const folders = readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    const repos = folders.map((folder) => ({
      full_name: `shared/${folder}`,
      workflows: readdirSync(join(root, folder))
        .filter((file) => /\.ya?ml$/.test(file))
        .map((file) => ({ path: `.github/workflows/${file}`, file: join(folder, file) })),
    }));
    const h = await startLab({ world: { repos }, scenarioDir: root });
    try {
      let served = 0;
      for (const repo of repos) {
        const [owner, name] = repo.full_name.split('/') as [string, string];
        // When each workflow is listed and fetched
        const listed = await h.github.paginate(h.github.rest.actions.listRepoWorkflows, { owner, repo: name, per_page: 100 });
        expect(listed.map((workflow) => workflow.path).sort()).toEqual(repo.workflows.map((workflow) => workflow.path).sort());
        for (const workflow of repo.workflows) {
          const content = await h.github.rest.repos.getContent({ owner, repo: name, path: workflow.path });
          const data = content.data as { content: string; sha: string };
          // Then the decoded content is the file, exactly
          expect(Buffer.from(data.content, 'base64').toString('utf8')).toBe(readFileSync(join(root, workflow.file), 'utf8'));
          served += 1;
        }
      }
      expect(served).toBeGreaterThanOrEqual(40);
      // And names come from `name:`, or the path when a file has none
      expect(h.lab.state.workflow('shared/nx', 'nx_pr-title-validation_VULNERABLE_c9163491.yml').name).toBe('PR Title Validation');
      expect(h.lab.state.workflow('shared/powertools-lambda-python', 'release.yml').name).toBe('Release');
      expect(h.lab.state.workflow('shared/configure-aws-credentials', 'release-please.yml').name).toBe('Release Please');
      expect(h.lab.state.workflow('shared/zizmor-fixtures', 'dangerous-triggers_actions-labeler.yml').name).toBe('.github/workflows/dangerous-triggers_actions-labeler.yml');
      expect(h.fidelityErrors).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
