import { FakeNode, moduleOptions, pullCalls, sleeps } from './harness';

/*
 * wait-for-dispatcher.sh, the pull unit's ExecStartPre: waits for NetworkManager-dispatcher
 * to finish, but only for a bounded number of polls, and never blocks the pull for good.
 */

afterEach(() => FakeNode.cleanupAll());

const ice = moduleOptions();
const UNIT = 'NetworkManager-dispatcher.service';

function polls(run: { calls: Array<{ tool: string; argv: string[] }> }): number {
  return run.calls.filter((call) => call.tool === 'systemctl').length;
}

test('dispatcher finished: returns after the poll that sees it loaded, inactive, result success', () => {
  const node = new FakeNode().dispatcher('loaded activating success', 'loaded active success', 'loaded inactive success');

  const run = node.run('wait', ice);

  expect(run.status).toBe(0);
  expect(run.lines).toEqual([`${UNIT} has finished`]);
  expect(run.calls.filter((call) => call.tool === 'systemctl').map((call) => call.argv)).toEqual(Array(3).fill(
    ['show', '--property=LoadState', '--property=ActiveState', '--property=Result', UNIT]));
  expect(sleeps(run)).toEqual([2, 2]);
});

test('dispatcher still running: gives up after a bounded number of polls, says so, lets the pull go ahead', () => {
  const node = new FakeNode().dispatcher('loaded active success');

  const run = node.run('wait', ice);

  expect(run.status).toBe(0);
  expect(polls(run)).toBe(61);
  expect(sleeps(run)).toEqual(Array(60).fill(2));
  expect(run.lines).toEqual([
    `gave up waiting for ${UNIT} after 60 polls 2s apart: it is still active (load state loaded); pulling anyway`,
  ]);
});

test('the bound follows the tuning: 10 s at 3 s intervals is 4 polls apart', () => {
  const node = new FakeNode().dispatcher('loaded deactivating success');

  const run = node.run('wait', ice, { KMM_DAY1_DISPATCHER_TIMEOUT: '10', KMM_DAY1_DISPATCHER_INTERVAL: '3' });

  expect(run.status).toBe(0);
  expect(sleeps(run)).toEqual([3, 3, 3, 3]);
  expect(run.lines).toEqual([
    `gave up waiting for ${UNIT} after 4 polls 3s apart: it is still deactivating (load state loaded); pulling anyway`,
  ]);
});

test('a busy dispatcher delays the pull but does not prevent it', () => {
  const node = new FakeNode().publishModule(ice).writePullSecret().dispatcher('loaded active success');

  const boot = node.boot([ice], { KMM_DAY1_DISPATCHER_TIMEOUT: '4' });

  expect(boot.wait[0].status).toBe(0);
  expect(boot.wait[0].lines[0]).toMatch(/^gave up waiting for /);
  expect(pullCalls(boot.pull[0])).toHaveLength(2);
  expect(boot.rebooted).toBe(true);
});

test('dispatcher not installed: nothing to wait for', () => {
  const node = new FakeNode().dispatcher('not-found inactive success');

  const run = node.run('wait', ice);

  expect(run.status).toBe(0);
  expect(polls(run)).toBe(1);
  expect(sleeps(run)).toEqual([]);
  expect(run.lines).toEqual([`${UNIT} is not installed; nothing to wait for`]);
});

test('dispatcher failed: it has finished all the same; says with which result', () => {
  const node = new FakeNode().dispatcher('loaded active success', 'loaded failed exit-code');

  const run = node.run('wait', ice);

  expect(run.status).toBe(0);
  expect(polls(run)).toBe(2);
  expect(run.lines).toEqual([`${UNIT} has finished with result exit-code; continuing`]);
});

test('systemctl answering nothing is polled like a running dispatcher, within the same bound', () => {
  const node = new FakeNode().dispatcher('   ');

  const run = node.run('wait', ice, { KMM_DAY1_DISPATCHER_TIMEOUT: '4' });

  expect(run.status).toBe(0);
  expect(polls(run)).toBe(3);
  expect(run.lines).toEqual([
    `gave up waiting for ${UNIT} after 2 polls 2s apart: it is still in an unknown state (load state unknown); pulling anyway`,
  ]);
});

test.each(['0', '-1', '2x', 'interval[$(id)]'])('an interval of %j is refused before polling', (value) => {
  const node = new FakeNode();

  const run = node.run('wait', ice, { KMM_DAY1_DISPATCHER_INTERVAL: value });

  expect(run.status).toBe(2);
  expect(run.stderr).toMatch(/^interval must be a positive integer, got /);
  expect(run.calls).toEqual([]);
});
