import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { assembledScript, assembleScript, bootScripts, SCRIPT_PATHS } from '../../src/boot/scripts';

/*
 * The blocks the scripts share live once, in src/boot/fragments, and are inlined where a
 * script's source has a `# @fragment <name>` line. What the node gets is checked elsewhere
 * (golden files, shellcheck and the boot tests run the assembled scripts); here: the
 * assembly itself, and that the sharing stays real.
 */
const SRC_BOOT = join(__dirname, '..', '..', 'src', 'boot');
const sources = SCRIPT_PATHS.map((path) => {
  const file = path.slice(path.lastIndexOf('/') + 1);
  return { file, text: readFileSync(join(SRC_BOOT, file), 'utf8') };
});
const fragments = readdirSync(join(SRC_BOOT, 'fragments')).filter((file) => file.endsWith('.sh')).map((file) => ({
  name: file.slice(0, -'.sh'.length),
  text: readFileSync(join(SRC_BOOT, 'fragments', file), 'utf8'),
}));
const markerOf = (name: string) => new RegExp(`^[ \\t]*# @fragment ${name}(?: .*)?$`, 'm');

describe('script fragments', () => {
  test('there are fragments, and each is used by two scripts at least (else it belongs in its script)', () => {
    expect(fragments.length).toBeGreaterThan(0);
    for (const fragment of fragments) {
      const users = sources.filter((s) => markerOf(fragment.name).test(s.text)).length;
      expect({ fragment: fragment.name, shared: users >= 2 }).toEqual({ fragment: fragment.name, shared: true });
    }
  });

  test('no script source carries a hand copy of a fragment', () => {
    for (const source of sources) {
      for (const fragment of fragments) {
        expect({ script: source.file, fragment: fragment.name, copied: `\n${source.text}`.includes(`\n${fragment.text}`) })
          .toEqual({ script: source.file, fragment: fragment.name, copied: false });
      }
    }
  });

  test('what the node gets holds no marker, and each fragment where its markers were', () => {
    for (const script of bootScripts()) {
      expect(script.contents).not.toMatch(/# @fragment/);
      const file = script.path.slice(script.path.lastIndexOf('/') + 1);
      const used = fragments.filter((fragment) => markerOf(fragment.name).test(sources.find((s) => s.file === file)!.text));
      for (const fragment of used) expect(`\n${script.contents}`).toContain(`\n${fragment.text}`);
    }
  });

  test('a marker line becomes the fragment byte for byte; indentation and a remark after the name are dropped with it', () => {
    const fragment = (name: string) => ({ body: '  one\n  two\n', tail: 'fi\n' }[name]);
    expect(assembleScript('a\n  # @fragment body (remark)\n# @fragment tail\nb\n', fragment, 's.sh')).toBe('a\n  one\n  two\nfi\nb\n');
    // Only whole comment lines are markers.
    expect(assembleScript('echo "# @fragment body"\n#  @fragment body\n', fragment, 's.sh')).toBe('echo "# @fragment body"\n#  @fragment body\n');
  });

  test.each([
    ['# @fragment', /s\.sh line 2: "# @fragment" must be "# @fragment <name>"/],
    ['  # @fragment Bad_Name', /s\.sh line 2: "# @fragment Bad_Name" must be "# @fragment <name>", the name in \[a-z0-9-\]/],
    ['# @fragment missing', /s\.sh line 2: fragment "missing" does not exist \(no fragments\/missing\.sh\)/],
    ['# @fragment unterminated', /s\.sh line 2: fragments\/unterminated\.sh must end with a newline and hold no marker/],
    ['# @fragment nested', /s\.sh line 2: fragments\/nested\.sh must end with a newline and hold no marker/],
  ])('%j is refused, naming the script, the line and the rule', (marker, message) => {
    const fragment = (name: string) => ({ unterminated: 'x', nested: '# @fragment unterminated\n' }[name]);
    expect(() => assembleScript(`#!/bin/bash\n${marker}\n`, fragment, 's.sh')).toThrow(message);
  });

  test('a script read from a directory finds its fragments there, and a missing one is an error naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmm-day1-fragments-'));
    try {
      mkdirSync(join(dir, 'fragments'));
      writeFileSync(join(dir, 'fragments', 'greet.sh'), 'echo hi\n');
      writeFileSync(join(dir, 'a.sh'), '#!/bin/bash\n# @fragment greet\n');
      writeFileSync(join(dir, 'b.sh'), '#!/bin/bash\n# @fragment greet\n# @fragment gone\n');
      expect(assembledScript('a.sh', dir)).toBe('#!/bin/bash\necho hi\n');
      expect(() => assembledScript('b.sh', dir)).toThrow(`${join(dir, 'b.sh')} line 3: fragment "gone" does not exist (no fragments/gone.sh)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
