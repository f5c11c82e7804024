import { synthManifests, synthYaml } from './helpers';
import { build, SCENARIOS } from './scenarios';
import { crdViolations } from '../util/crd';
import { withCrds } from '../util/oracles';

let stderr: jest.SpyInstance;
beforeEach(() => {
  // The hand-over scenario with module parameters prints its warning; it is tested elsewhere.
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => stderr.mockRestore());

describe.each(Object.entries(SCENARIOS))('scenario %s', (_name, scenario) => {
  withCrds()('every synthesized object conforms to its CRD, with nothing pruned', () => {
    const manifests = synthManifests(build(scenario));
    expect(manifests.length).toBeGreaterThan(0);
    for (const manifest of manifests) {
      expect({ object: `${manifest.kind} ${manifest.metadata.name}`, violations: crdViolations(manifest) })
        .toEqual({ object: `${manifest.kind} ${manifest.metadata.name}`, violations: [] });
    }
  });

  test('synthesis is deterministic: two apps built alike give the same bytes, and so do two synths of one app', () => {
    const first = build(scenario);
    const yaml = synthYaml(first);
    expect(synthYaml(build(scenario))).toBe(yaml);
    expect(synthYaml(first)).toBe(yaml);
  });
});
