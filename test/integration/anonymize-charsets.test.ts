import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { anonymizeTree } from '../../src/anon/anonymize-tree';
import { DEFAULT_PROFILE } from '../../src/anon/options';
import { normalizeForMatch } from '../../src/anon/phi-tokens';
import { DEFAULT_QUARANTINE_RULES } from '../../src/anon/quarantine-rules';
import { findElement, type Element } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { decodeText } from '../../src/dicom/values';
import { tempDir } from '../helpers/anon-env';
import { FIXTURES } from '../helpers/cli';
import { dicomFiles } from '../helpers/files';

const CHARSET_FILES = ['chrArab', 'chrFren', 'chrGerm', 'chrGreek', 'chrH31', 'chrH32', 'chrHbrw', 'chrI2', 'chrJapMulti', 'chrKoreanMulti', 'chrRuss', 'chrX1', 'chrX2'];
const { dir, cleanup } = tempDir('dp-charset-');
test.after(cleanup);

/** Every text value of a dataset, decoded in its declared character set. */
function decodedValues(ds: readonly Element[], charset = ''): string[] {
  const own = findElement(ds, 0x00080005);
  const cs = own ? decodeText(own) : charset;
  const out: string[] = [];
  for (const el of ds) {
    if (el.items) for (const item of el.items) out.push(...decodedValues(item.elements, cs));
    else if (el.value && el.tag !== 0x7fe00010 && el.value.length < 4096) out.push(decodeText(el, cs));
  }
  return out;
}

for (const name of CHARSET_FILES) {
  test(`${name}: names replaced, character set and kept text unchanged`, async () => {
    const input = join(dir, name, 'in');
    mkdirSync(input, { recursive: true });
    copyFileSync(join(FIXTURES, 'charset', `${name}.dcm`), join(input, `${name}.dcm`));
    const summary = await anonymizeTree({
      inputDir: input, outputDir: join(dir, name, 'out'), quarantineDir: join(dir, name, 'q'),
      identityDb: join(dir, 'identity.db'), identity: { keyFile: join(dir, 'key') }, profile: DEFAULT_PROFILE,
      quarantine: { ...DEFAULT_QUARANTINE_RULES, allowedModalities: '*', riskySopClasses: false }, workers: 1,
    });
    assert.equal(summary.anonymized, 1, JSON.stringify(summary.quarantinedByReason));
    const original = parsePart10(readFileSync(join(input, `${name}.dcm`)));
    const out = parsePart10(readFileSync(dicomFiles(join(dir, name, 'out'))[0]));
    const charset = findElement(original.dataset, 0x00080005)!;
    assert.ok(findElement(out.dataset, 0x00080005)!.value!.equals(charset.value!), 'Specific Character Set unchanged');
    const cs = decodeText(charset);
    const originalName = decodeText(findElement(original.dataset, 0x00100010)!, cs);
    const newName = decodeText(findElement(out.dataset, 0x00100010)!, cs);
    assert.match(newName, /^P[0-9A-Z]{11}$/, 'the pseudonym decodes as itself in the declared character set');
    const outputText = decodedValues(out.dataset).map(normalizeForMatch).join(' | ');
    for (const part of originalName.split(/[\^=]/).map(normalizeForMatch).filter((p) => p.length > 0)) {
      assert.ok(!` ${outputText} `.includes(` ${part} `), `name part survived (${name})`);
    }
  });
}
