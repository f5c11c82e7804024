import { hasCrd, synthManifests, synthYaml } from './helpers';
import { build, SCENARIOS } from './scenarios';
import { crdViolations } from '../util/crd';

let stderr: jest.SpyInstance;
beforeEach(() => {
  // The hand-over scenario with module parameters prints its warning; it is tested elsewhere.
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => stderr.mockRestore());

describe.each(Object.entries(SCENARIOS))('scenario %s', (_name, scenario) => {
  test('every synthesized object of a CRD kind conforms to its CRD, with nothing pruned; the others are core kinds', () => {
    const manifests = synthManifests(build(scenario));
    expect(manifests.filter(hasCrd).length).toBeGreaterThan(0);
    // The health check's objects; their shape is asserted field by field in health-check.test.ts.
    expect(manifests.filter((m) => !hasCrd(m)).map((m) => `${m.apiVersion} ${m.kind}`))
      .toEqual(manifests.filter((m) => ['v1 Namespace', 'apps/v1 DaemonSet'].includes(`${m.apiVersion} ${m.kind}`)).map((m) => `${m.apiVersion} ${m.kind}`));
    for (const manifest of manifests.filter(hasCrd)) {
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
