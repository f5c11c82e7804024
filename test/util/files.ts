import { readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';

/** Every file under `dir`, by its path relative to `dir` ("/"-separated, in sorted order), with its text. */
export function readTree(dir: string, prefix = ''): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    const name = prefix === '' ? entry : `${prefix}/${entry}`;
    if (statSync(path).isDirectory()) {
      for (const [file, text] of readTree(path, name)) files.set(file, text);
    } else {
      files.set(name, readFileSync(path, 'utf8'));
    }
  }
  return files;
}
