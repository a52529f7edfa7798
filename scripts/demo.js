#!/usr/bin/env node
'use strict';
// The README's main-job demo, until the full pipeline lands: builds a small identified "staging"
// tree from the fixtures (fake PHI), anonymizes it with the real CLI, and shows before and after.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist', 'src');
if (!fs.existsSync(path.join(dist, 'cli', 'main.js'))) {
  console.error('demo: not built yet; run `npm ci` first');
  process.exit(2);
}
const { parsePart10 } = require(path.join(dist, 'dicom', 'parse'));
const { encodePart10 } = require(path.join(dist, 'dicom', 'serialize'));
const { putElement, findElement } = require(path.join(dist, 'dicom', 'dataset'));
const { encodeAscii, decodeText } = require(path.join(dist, 'dicom', 'values'));

const work = path.join(root, 'data', `demo_at_${Math.floor(Date.now() / 1000)}`);
const staging = path.join(work, 'from_staging');
const patients = [['DEMO-001', 'SAMPLE^ALICE', '19610203'], ['DEMO-002', 'EXAMPLE^BOB', '19750611']];
const template = fs.readFileSync(path.join(root, 'fixtures', 'ts', 'CT_small.dcm'));
let n = 0;
for (const [pid, name, birth] of patients) {
  for (let s = 1; s <= 2; s++) {
    const study = `1.2.826.0.1.3680043.10.543.${pid.slice(-1)}.${s}`;
    for (let i = 1; i <= 5; i++) {
      const file = parsePart10(template);
      const set = (tag, vr, v) => putElement(file.dataset, { tag, vr, value: encodeAscii(v, vr) });
      set(0x00100020, 'LO', pid); set(0x00100010, 'PN', name); set(0x00100030, 'DA', birth);
      set(0x00080080, 'LO', 'DEMO GENERAL HOSPITAL'); set(0x00080090, 'PN', 'REFERRER^RUTH');
      set(0x00080050, 'SH', `ACC${pid.slice(-1)}${s}`); set(0x0020000d, 'UI', study);
      set(0x0020000e, 'UI', `${study}.1`); set(0x00080018, 'UI', `${study}.1.${i}`);
      set(0x00080020, 'DA', `2024010${s}`);
      const meta = file.meta.map((e) => (e.tag === 0x00020003 ? { ...e, value: encodeAscii(`${study}.1.${i}`, 'UI') } : e));
      fs.mkdirSync(path.join(staging, study), { recursive: true });
      fs.writeFileSync(path.join(staging, study, `${i}.dcm`), Buffer.concat(encodePart10(meta, file.dataset, file.transferSyntax)));
      n++;
    }
  }
}
console.log(`demo: ${n} identified CT files for ${patients.length} fake patients in ${path.relative(root, staging)}`);
const env = { ...process.env, DICOM_PIPELINE_KEY_FILE: path.join(work, 'identity.key') };
const res = spawnSync(process.execPath, [path.join(root, 'bin', 'dicom-pipeline.js'), 'anonymize', staging, path.join(work, 'to_production'),
  '--identity', path.join(work, 'identity.db')], { stdio: 'inherit', env });
if (res.status !== 0) process.exit(res.status ?? 1);

const show = (file, label) => {
  const ds = parsePart10(fs.readFileSync(file)).dataset;
  const get = (tag) => { const e = findElement(ds, tag); return e ? decodeText(e) : '(removed)'; };
  console.log(`  ${label.padEnd(7)} name=${get(0x00100010)} id=${get(0x00100020)} birth=${get(0x00100030) || '(empty)'} ` +
    `institution=${get(0x00080080)} study date=${get(0x00080020)} accession=${get(0x00080050)}`);
};
// The identity map says which output came from the first input (the re-identification query sites use).
const Database = require('better-sqlite3');
const db = new Database(path.join(work, 'identity.db'), { readonly: true });
const cleaned = db.prepare('select cleaned from sopinstanceuid where original = ?').pluck().get('1.2.826.0.1.3680043.10.543.1.1.1.1');
db.close();
const [after] = require('fast-glob').sync(`**/${cleaned}.dcm`, { cwd: path.join(work, 'to_production'), absolute: true });
console.log('\nbefore and after (one file):');
show(path.join(staging, '1.2.826.0.1.3680043.10.543.1.1', '1.dcm'), 'before');
show(after, 'after');
console.log(`\nresults: ${path.relative(root, work)}/ (to_production/, quarantine/, identity.db)`);
