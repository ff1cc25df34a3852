import { describe, expect, it } from 'vitest';
import { playAfterContainment } from '../../src/drill/index.js';
import { labSecrets } from '../../src/drill/secrets.js';
import { scoreAttacks } from '../../src/drill/score.js';
import { useScenarioLab } from '../helpers/scenario-lab.js';

// A legitimate workload's key (never exposed) and the attacker's leaked one; no containment run:
// the tests change the world as containment would, then play the after-containment steps.
const scenarioText = `
name: workload after containment
description: the attacker's leaked key must be denied, the workload's own key must keep working
aws:
  accounts:
    - id: "123456789012"
      users:
        - name: leaked-ci
          access_keys: [{ id: AKIALEAKEDKEY0000001, secret: leakedSecretKeyValue0000000000000000001, created: -100d }]
          inline_policies:
            s3: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "s3:ListAllMyBuckets", Resource: "*" }] }
        - name: telemetry
          access_keys: [{ id: AKIAWORKLOADKEY00001, secret: workloadSecretKeyValue000000000000000001, created: -100d }]
          inline_policies:
            s3: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "s3:ListAllMyBuckets", Resource: "*" }] }
attacker:
  - { phase: after-containment, credential: AKIALEAKEDKEY0000001, call: s3:ListBuckets, expect: denied }
  - { phase: after-containment, actor: workload, credential: AKIAWORKLOADKEY00001, call: s3:ListBuckets }
`;

const deactivate = (lab: Awaited<ReturnType<ReturnType<typeof useScenarioLab>>>, id: string) => {
  lab.aws.state.findKey(id)!.key.status = 'Inactive';
};

describe("the drill's after-containment workload steps", () => {
  const start = useScenarioLab(scenarioText, 'cicd-ir-drill-workload-');

  it('pass when the workload still works and the attacker is denied', async () => {
    // Given containment deactivated the leaked key only
    const lab = await start();
    deactivate(lab, 'AKIALEAKEDKEY0000001');
    // When the drill plays the after-containment steps
    const [attacker, workload] = await playAfterContainment(lab, [], labSecrets(lab));
    // Then the attacker's step is denied and the workload's succeeds, both as expected
    expect(attacker).toMatchObject({ expected: 'denied', outcome: 'denied', passed: true });
    expect(workload).toMatchObject({ expected: 'success', outcome: 'success', passed: true });
    expect(workload!.detail).toContain('still works');
    expect(scoreAttacks([attacker!, workload!], [], []).passed).toBe(true);
  });

  it('fail when containment cut the workload the scenario expects to keep working', async () => {
    // Given containment deactivated every key, the workload's too
    const lab = await start();
    deactivate(lab, 'AKIALEAKEDKEY0000001');
    deactivate(lab, 'AKIAWORKLOADKEY00001');
    // When the drill plays the steps
    const [, workload] = await playAfterContainment(lab, [], labSecrets(lab));
    // Then the workload's step fails the drill, with why
    expect(workload).toMatchObject({ expected: 'success', outcome: 'denied', passed: false });
    expect(workload!.detail).toContain('cut a legitimate workload');
    const score = scoreAttacks([workload!], [], []);
    expect(score.passed).toBe(false);
    expect(score.reason).toContain('cut a legitimate workload');
  });
});

describe('a workload step the scenario expects containment to cut (expect: denied)', () => {
  const start = useScenarioLab(scenarioText.replace('credential: AKIAWORKLOADKEY00001, call: s3:ListBuckets }', 'credential: AKIAWORKLOADKEY00001, call: s3:ListBuckets, expect: denied }'), 'cicd-ir-drill-cut-');

  it('passes only when the report names what it uses', async () => {
    const lab = await start();
    deactivate(lab, 'AKIAWORKLOADKEY00001');
    const [, named] = await playAfterContainment(lab, [], labSecrets(lab), '{"openItems":[{"summary":"deactivated AKIAWORKLOADKEY00001 of telemetry"}]}');
    expect(named).toMatchObject({ expected: 'cut', outcome: 'denied', passed: true });
    const [, silent] = await playAfterContainment(lab, [], labSecrets(lab), '{"openItems":[]}');
    expect(silent).toMatchObject({ expected: 'cut', outcome: 'denied', passed: false });
    expect(silent!.detail).toContain('never names');
  });
});
